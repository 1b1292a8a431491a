/** Writes a report folder: report.md, report.json, bandwidth.svg, latency.svg. */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { renderBandwidthChart, renderLatencyChart } from './charts.js';
import { renderMarkdown } from './markdown.js';
import { renderJson, type BenchReport } from './report.js';

export interface ReportFiles {
  readonly markdown: string;
  readonly json: string;
  readonly bandwidthChart: string;
  readonly latencyChart: string;
}

/** Creates `dir` if needed and (over)writes the four files in it. Returns their paths. */
export async function writeReport(dir: string, report: BenchReport): Promise<ReportFiles> {
  await mkdir(dir, { recursive: true });
  const files: ReportFiles = {
    markdown: join(dir, 'report.md'),
    json: join(dir, 'report.json'),
    bandwidthChart: join(dir, 'bandwidth.svg'),
    latencyChart: join(dir, 'latency.svg'),
  };
  await Promise.all([
    writeFile(
      files.markdown,
      renderMarkdown(report, { bandwidthChart: 'bandwidth.svg', latencyChart: 'latency.svg' }),
    ),
    writeFile(files.json, renderJson(report)),
    writeFile(files.bandwidthChart, renderBandwidthChart(report)),
    writeFile(files.latencyChart, renderLatencyChart(report)),
  ]);
  return files;
}
