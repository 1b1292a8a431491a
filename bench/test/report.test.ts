/**
 * Reports: the model, JSON, Markdown, and the SVG charts parsed as strict XML. The committed
 * sample charts under bench/docs/ are checked against what the code renders now
 * (`npx vitest run bench/test/report.test.ts -u` rewrites them).
 */
import { DOMParser, onWarningStopParsing, type Document, type Element } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { renderBandwidthChart, renderLatencyChart } from '../src/report/charts.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { allPassed, buildReport, renderJson } from '../src/report/report.js';
import { DEFAULT_THRESHOLDS } from '../src/verdict/thresholds.js';
import { bwResult, failedPair, latResult, measuredPair } from './builders.js';
import { SAMPLE_DATE, sampleReport } from './sample-report.js';

function parseSvg(svg: string): Document {
  // Any warning or error stops parsing and throws: the chart must be well-formed XML.
  return new DOMParser({ onError: onWarningStopParsing }).parseFromString(svg, 'image/svg+xml');
}
function all(doc: Document, tag: string): Element[] {
  return Array.from(doc.getElementsByTagName(tag));
}
function byClass(doc: Document, tag: string, cls: string): Element[] {
  return all(doc, tag).filter((e) => (e.getAttribute('class') ?? '').split(' ').includes(cls));
}
function texts(doc: Document): string[] {
  return all(doc, 'text').map((e) => e.textContent ?? '');
}

const mixed = () =>
  buildReport(
    [
      measuredPair('a->b write bw', bwResult(390), { portGbps: 400 }),
      measuredPair('c->d write bw', bwResult(150), {
        portGbps: 400,
        client: { gpu: { pciAddress: '0000:9b:00.0', numaNode: 1, distanceClass: 'SYS' } },
      }),
      measuredPair('e->f write bw', bwResult(95), { portGbps: null }),
      failedPair('g->h write bw', 'client pod failed: OOMKilled'),
      measuredPair('a->b write lat', latResult(1.2), { portGbps: 400 }),
      measuredPair('a->b read lat', latResult(5.1, { verb: 'read' }), { portGbps: 400 }),
    ],
    { title: 'Mixed <report> & "quotes"', thresholds: DEFAULT_THRESHOLDS, now: SAMPLE_DATE },
  );

describe('report model', () => {
  it('judges every pair and counts the verdicts', () => {
    const r = mixed();
    expect(r.summary).toEqual({ pairs: 6, pass: 2, fail: 2, noVerdict: 1, error: 1 });
    expect(r.pairs.map((p) => p.verdict.status)).toEqual([
      'pass',
      'fail',
      'no-verdict',
      'error',
      'pass',
      'fail',
    ]);
    expect(r.generatedAt).toBe('2026-11-26T12:00:00.000Z');
    expect(allPassed(r)).toBe(false);
  });

  it('puts placement warnings next to the pair they cost', () => {
    const p = mixed().pairs[1]!;
    expect(p.placementWarnings).toEqual([
      'GPU–NIC distance SYS on node-b: traffic crosses the inter-socket link',
    ]);
  });

  it('refuses two pairs with one id', () => {
    const pair = measuredPair('x', bwResult(1));
    expect(() =>
      buildReport([pair, pair], { title: 't', thresholds: DEFAULT_THRESHOLDS, now: SAMPLE_DATE }),
    ).toThrow(/appears twice/);
  });

  it('JSON is the model, losslessly', () => {
    const r = mixed();
    expect(JSON.parse(renderJson(r))).toEqual(JSON.parse(JSON.stringify(r)));
    expect(JSON.parse(renderJson(r))).toMatchObject({
      apiVersion: 'rdmasched.io/v1',
      kind: 'RdmaBenchReport',
    });
  });
});

describe('bandwidth chart', () => {
  const doc = parseSvg(renderBandwidthChart(mixed()));

  it('is titled, described, labelled with units, and has a legend', () => {
    expect(all(doc, 'title')[0]?.textContent).toBe('RDMA bandwidth per pair against line rate');
    expect(all(doc, 'desc')[0]?.textContent).toMatch(/4 pair\(s\)/);
    expect(byClass(doc, 'text', 'axis-label')[0]?.textContent).toBe(
      'Measured bandwidth, BW average (Gb/s, 1 Gb = 10^9 bit)',
    );
    const t = texts(doc);
    for (const word of [
      '✓ PASS',
      '✗ FAIL',
      '? NO VERDICT',
      '! ERROR',
      'line rate',
      'pass threshold (90.0% of line rate)',
    ])
      expect(t).toContain(word);
    expect(doc.documentElement?.getAttribute('role')).toBe('img');
  });

  it('draws one bar per measured bandwidth pair, coloured and worded by verdict', () => {
    const bars = byClass(doc, 'rect', 'bar');
    expect(
      bars.map((b) => [b.getAttribute('data-pair'), b.getAttribute('class'), b.getAttribute('data-value')]),
    ).toEqual([
      ['a->b write bw', 'bar pass', '390'],
      ['c->d write bw', 'bar fail', '150'],
      ['e->f write bw', 'bar no-verdict', '95'],
    ]);
    expect(bars[0]?.getAttribute('fill')).not.toBe(bars[1]?.getAttribute('fill'));
    const labels = byClass(doc, 'text', 'verdict-label').map((e) => [
      e.getAttribute('data-pair'),
      e.textContent,
    ]);
    expect(labels[0]).toEqual([
      'a->b write bw',
      '✓ PASS · 390 Gb/s at 64 KiB = 97.5% of 400 Gb/s line rate; needs 360 Gb/s',
    ]);
    expect(labels[1]?.[1]).toBe('✗ FAIL · 150 Gb/s at 64 KiB = 37.5% of 400 Gb/s line rate; needs 360 Gb/s');
    const notes = byClass(doc, 'text', 'note').map((e) => [e.getAttribute('data-pair'), e.textContent]);
    expect(notes).toEqual([
      ['c->d write bw', '⚠ GPU–NIC distance SYS on node-b: traffic crosses the inter-socket link'],
    ]);
    expect(labels[2]?.[1]).toBe('? NO VERDICT · 95 Gb/s at 64 KiB; line rate unknown');
    expect(labels[3]?.[1]).toBe('! ERROR · client pod failed: OOMKilled');
  });

  it('marks line rate and threshold for each pair that has them', () => {
    const rate = byClass(doc, 'line', 'line-rate').map((l) => [
      l.getAttribute('data-pair'),
      l.getAttribute('data-value'),
    ]);
    const threshold = byClass(doc, 'line', 'threshold').map((l) => [
      l.getAttribute('data-pair'),
      l.getAttribute('data-value'),
    ]);
    expect(rate).toEqual([
      ['a->b write bw', '400'],
      ['c->d write bw', '400'],
    ]);
    expect(threshold).toEqual([
      ['a->b write bw', '360'],
      ['c->d write bw', '360'],
    ]);
    // The marker sits further right than a bar below the threshold.
    const bar = byClass(doc, 'rect', 'bar').find((b) => b.getAttribute('data-pair') === 'c->d write bw')!;
    const line = byClass(doc, 'line', 'threshold').find(
      (l) => l.getAttribute('data-pair') === 'c->d write bw',
    )!;
    expect(Number(bar.getAttribute('x')) + Number(bar.getAttribute('width'))).toBeLessThan(
      Number(line.getAttribute('x1')),
    );
  });

  it('escapes text that is not XML-safe', () => {
    const r = buildReport([measuredPair('<a&b> "x"', bwResult(10))], {
      title: 'T & <U>',
      thresholds: DEFAULT_THRESHOLDS,
      now: SAMPLE_DATE,
    });
    const d = parseSvg(renderBandwidthChart(r));
    expect(byClass(d, 'rect', 'bar')[0]?.getAttribute('data-pair')).toBe('<a&b> "x"');
    expect(texts(d)).toContain('<a&b> "x"');
  });

  it('says so when there is nothing to draw', () => {
    const d = parseSvg(
      renderBandwidthChart(buildReport([], { title: 't', thresholds: DEFAULT_THRESHOLDS, now: SAMPLE_DATE })),
    );
    expect(texts(d)).toContain('No bandwidth results in this report');
    expect(byClass(d, 'rect', 'bar')).toEqual([]);
  });
});

describe('latency chart', () => {
  const doc = parseSvg(renderLatencyChart(mixed()));

  it('draws t_avg bars against each pair’s limit', () => {
    expect(
      byClass(doc, 'rect', 'bar').map((b) => [
        b.getAttribute('data-pair'),
        b.getAttribute('class'),
        b.getAttribute('data-value'),
      ]),
    ).toEqual([
      ['a->b write lat', 'bar pass', '1.2'],
      ['a->b read lat', 'bar fail', '5.1'],
    ]);
    expect(byClass(doc, 'line', 'threshold').map((l) => l.getAttribute('data-value'))).toEqual([
      '2.5',
      '4.5',
    ]);
    expect(byClass(doc, 'line', 'line-rate')).toEqual([]);
    expect(byClass(doc, 'text', 'axis-label')[0]?.textContent).toMatch(/^t_avg \(µs/);
    expect(byClass(doc, 'text', 'verdict-label')[1]?.textContent).toBe(
      '✗ FAIL · t_avg 5.1 µs at 2 B (median 5.1 µs, p99 6.12 µs); limit 4.5 µs (read)',
    );
  });
});

describe('markdown', () => {
  const md = renderMarkdown(mixed(), { bandwidthChart: 'bandwidth.svg', latencyChart: 'latency.svg' });

  it('summarises, embeds the charts and tabulates each kind', () => {
    expect(md).toContain('**2 of 6 pairs passed** (✓ PASS 2 · ✗ FAIL 2 · ? NO VERDICT 1 · ! ERROR 1)');
    expect(md).toContain('![Measured bandwidth per pair against line rate](bandwidth.svg)');
    expect(md).toContain('![Latency per pair](latency.svg)');
    expect(md).toContain(
      '| c->d write bw | ✗ FAIL | 150 Gb/s | 400 Gb/s | 37.5% | 360 Gb/s | 64 KiB · ? | node-a · mlx5_0 (PF 0000:1a:00.0) · NIC NUMA 0 · host memory | node-b · mlx5_0 (PF 0000:1a:00.0) · NIC NUMA 0 · GPU 0000:9b:00.0 SYS |',
    );
    expect(md).toMatch(
      /\| a->b read lat \| ✗ FAIL \| 5\.1 µs \| 5\.1 µs \| 6\.12 µs \| 4\.5 µs \(read\) \| 2 B \|/,
    );
  });

  it('gives the details: reasons, placement, failure logs', () => {
    expect(md).toContain('### g->h write bw');
    expect(md).toContain('  - client pod failed: OOMKilled');
    expect(md).toContain(
      '- ⚠ Placement: GPU–NIC distance SYS on node-b: traffic crosses the inter-socket link',
    );
    expect(md).toContain('  ```text\n  last lines\n  ```');
  });

  it('escapes table pipes', () => {
    const r = buildReport([measuredPair('a|b', bwResult(10))], {
      title: 't',
      thresholds: DEFAULT_THRESHOLDS,
      now: SAMPLE_DATE,
    });
    expect(renderMarkdown(r)).toContain('| a\\|b |');
  });
});

describe('sample report from the shared samples (bench/docs)', () => {
  const report = sampleReport();

  it('judges the samples as their figures say', () => {
    expect(report.pairs.map((p) => [p.id, p.verdict.status])).toEqual([
      ['spark-1 -> spark-2 write bw (4 QPs)', 'fail'],
      ['node1 -> node3 write bw sweep', 'no-verdict'],
      ['spark-1 -> spark-2 write lat', 'pass'],
    ]);
    expect(report.pairs[0]?.verdict.reasons[0]).toBe(
      'bandwidth 111.71 Gb/s at 64 KiB is 55.9% of the 200 Gb/s line rate; below the 90.0% threshold (180 Gb/s)',
    );
    expect(report.pairs[2]?.verdict.reasons[0]).toBe('write latency t_avg 1.47 µs at 2 B ≤ the 2.5 µs limit');
  });

  it('matches the committed sample charts', async () => {
    const bw = renderBandwidthChart(report);
    const lat = renderLatencyChart(report);
    parseSvg(bw);
    parseSvg(lat);
    await expect(bw).toMatchFileSnapshot('../docs/sample-bandwidth.svg');
    await expect(lat).toMatchFileSnapshot('../docs/sample-latency.svg');
  });
});
