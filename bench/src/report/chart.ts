/**
 * A horizontal bar chart, one row per pair, written as plain SVG (no browser, no library).
 * Readable on its own: title, subtitle with the thresholds, axis with unit, legend, and each
 * verdict in words (PASS/FAIL/...) next to its colour, so it reads in greyscale too.
 */
import type { VerdictStatus } from '../verdict/verdict.js';
import { el, escapeXml, niceStep, num, text, truncate } from './svg.js';

export interface ChartRow {
  readonly id: string;
  readonly status: VerdictStatus;
  /** Pair name, then server and client placement. */
  readonly label: readonly [string, string, string];
  /** Bar length in axis units; null draws no bar (the run failed). */
  readonly value: number | null;
  /** Solid marker (line rate); null when unknown or not applicable. */
  readonly reference: number | null;
  /** Dashed marker (pass threshold). */
  readonly threshold: number | null;
  /** The sentence under the bar: verdict in words and figures. */
  readonly caption: string;
  /** A second line under the caption (placement warnings); null for none. */
  readonly note: string | null;
  /** Hover text with everything (SVG <title>). */
  readonly tooltip: string;
}

export interface ChartSpec {
  readonly title: string;
  readonly subtitle: string;
  /** Axis title with its unit. */
  readonly axisLabel: string;
  readonly rows: readonly ChartRow[];
  readonly referenceLegend: string | null;
  readonly thresholdLegend: string;
  readonly emptyMessage: string;
  /** One paragraph for screen readers (SVG <desc>). */
  readonly description: string;
}

export const STATUS_STYLE: Readonly<Record<VerdictStatus, { fill: string; word: string }>> = {
  pass: { fill: '#1b7837', word: '✓ PASS' },
  fail: { fill: '#b2182b', word: '✗ FAIL' },
  'no-verdict': { fill: '#8c8c8c', word: '? NO VERDICT' },
  error: { fill: '#ffffff', word: '! ERROR' },
};

const WIDTH = 960;
const LEFT = 330;
const RIGHT = 30;
const PLOT_W = WIDTH - LEFT - RIGHT;
const TOP = 104;
const ROW_H = 78;
const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

export function renderRowChart(spec: ChartSpec): string {
  const rows = spec.rows;
  const plotH = Math.max(1, rows.length) * ROW_H;
  const height = TOP + plotH + 56;
  const maxValue = Math.max(0, ...rows.flatMap((r) => [r.value ?? 0, r.reference ?? 0, r.threshold ?? 0]));
  const step = niceStep(maxValue * 1.05);
  const axisMax = Math.max(step, Math.ceil((maxValue * 1.05) / step) * step);
  const x = (v: number) => LEFT + (Math.min(Math.max(v, 0), axisMax) / axisMax) * PLOT_W;
  const parts: string[] = [];

  parts.push(el('rect', { x: 0, y: 0, width: WIDTH, height, fill: '#ffffff' }));
  parts.push(text({ x: 16, y: 30, 'font-size': 19, 'font-weight': 'bold', fill: '#111111' }, spec.title));
  parts.push(text({ x: 16, y: 52, 'font-size': 12, fill: '#333333' }, spec.subtitle));
  parts.push(legend(spec));

  // Grid and axis.
  const axisY = TOP + plotH;
  const ticks: string[] = [];
  for (let v = 0; v <= axisMax + step / 1000; v += step) {
    ticks.push(
      el('line', { x1: x(v), x2: x(v), y1: TOP - 6, y2: axisY, stroke: '#e3e3e3', 'stroke-width': 1 }),
    );
    ticks.push(
      text({ x: x(v), y: axisY + 16, 'font-size': 11, 'text-anchor': 'middle', fill: '#333333' }, num(v)),
    );
  }
  parts.push(el('g', { class: 'grid' }, ...ticks));
  parts.push(
    el('line', {
      class: 'axis',
      x1: LEFT,
      x2: LEFT + PLOT_W,
      y1: axisY,
      y2: axisY,
      stroke: '#333333',
      'stroke-width': 1,
    }),
  );
  parts.push(
    text(
      {
        class: 'axis-label',
        x: LEFT + PLOT_W / 2,
        y: axisY + 38,
        'font-size': 12,
        'text-anchor': 'middle',
        fill: '#111111',
      },
      spec.axisLabel,
    ),
  );

  if (rows.length === 0)
    parts.push(
      text(
        {
          x: LEFT + PLOT_W / 2,
          y: TOP + ROW_H / 2,
          'font-size': 13,
          'text-anchor': 'middle',
          fill: '#333333',
        },
        spec.emptyMessage,
      ),
    );

  rows.forEach((r, i) => {
    const top = TOP + i * ROW_H;
    const style = STATUS_STYLE[r.status];
    const g: string[] = [el('title', {}, escapeXml(r.tooltip))];
    g.push(
      text(
        { x: 16, y: top + 18, 'font-size': 12, 'font-weight': 'bold', fill: '#111111' },
        truncate(r.label[0], 46),
      ),
    );
    g.push(text({ x: 16, y: top + 34, 'font-size': 11, fill: '#333333' }, truncate(`S: ${r.label[1]}`, 52)));
    g.push(text({ x: 16, y: top + 49, 'font-size': 11, fill: '#333333' }, truncate(`C: ${r.label[2]}`, 52)));
    if (r.reference !== null)
      g.push(
        el('rect', {
          class: 'track',
          x: LEFT,
          y: top + 8,
          width: x(r.reference) - LEFT,
          height: 22,
          fill: '#ececec',
        }),
      );
    if (r.value !== null)
      g.push(
        el('rect', {
          class: `bar ${r.status}`,
          'data-pair': r.id,
          'data-value': num(r.value),
          x: LEFT,
          y: top + 8,
          width: Math.max(1.5, x(r.value) - LEFT),
          height: 22,
          fill: style.fill,
          stroke: '#111111',
          'stroke-width': 0.5,
        }),
      );
    if (r.reference !== null)
      g.push(
        el('line', {
          class: 'line-rate',
          'data-pair': r.id,
          'data-value': num(r.reference),
          x1: x(r.reference),
          x2: x(r.reference),
          y1: top + 3,
          y2: top + 35,
          stroke: '#111111',
          'stroke-width': 2.5,
        }),
      );
    if (r.threshold !== null)
      g.push(
        el('line', {
          class: 'threshold',
          'data-pair': r.id,
          'data-value': num(r.threshold),
          x1: x(r.threshold),
          x2: x(r.threshold),
          y1: top + 3,
          y2: top + 35,
          stroke: '#111111',
          'stroke-width': 1.5,
          'stroke-dasharray': '4 3',
        }),
      );
    g.push(
      text(
        { class: 'verdict-label', 'data-pair': r.id, x: LEFT, y: top + 48, 'font-size': 12, fill: '#111111' },
        truncate(`${style.word} · ${r.caption}`, 96),
      ),
    );
    if (r.note !== null)
      g.push(
        text(
          { class: 'note', 'data-pair': r.id, x: LEFT, y: top + 64, 'font-size': 11, fill: '#7a3d00' },
          truncate(`⚠ ${r.note}`, 100),
        ),
      );
    parts.push(el('g', { class: 'pair', 'data-pair': r.id, 'data-status': r.status }, `\n${g.join('\n')}\n`));
  });

  return `${el(
    'svg',
    {
      xmlns: 'http://www.w3.org/2000/svg',
      width: WIDTH,
      height,
      viewBox: `0 0 ${WIDTH} ${num(height)}`,
      role: 'img',
      'aria-labelledby': 'chart-title chart-desc',
      'font-family': FONT,
    },
    '\n',
    [
      el('title', { id: 'chart-title' }, escapeXml(spec.title)),
      el('desc', { id: 'chart-desc' }, escapeXml(spec.description)),
      ...parts,
    ].join('\n'),
    '\n',
  )}\n`;
}

function legend(spec: ChartSpec): string {
  const items: string[] = [];
  let cx = 16;
  const y = 76;
  for (const status of ['pass', 'fail', 'no-verdict', 'error'] as const) {
    const s = STATUS_STYLE[status];
    items.push(
      el('rect', {
        x: cx,
        y: y - 10,
        width: 14,
        height: 12,
        fill: s.fill,
        stroke: '#111111',
        'stroke-width': 0.5,
      }),
    );
    items.push(text({ x: cx + 19, y, 'font-size': 11, fill: '#111111' }, s.word));
    cx += 19 + s.word.length * 7 + 16;
  }
  if (spec.referenceLegend !== null) {
    items.push(el('line', { x1: cx, x2: cx, y1: y - 12, y2: y + 3, stroke: '#111111', 'stroke-width': 2.5 }));
    items.push(text({ x: cx + 7, y, 'font-size': 11, fill: '#111111' }, spec.referenceLegend));
    cx += 7 + spec.referenceLegend.length * 6.2 + 16;
  }
  items.push(
    el('line', {
      x1: cx,
      x2: cx,
      y1: y - 12,
      y2: y + 3,
      stroke: '#111111',
      'stroke-width': 1.5,
      'stroke-dasharray': '4 3',
    }),
  );
  items.push(text({ x: cx + 7, y, 'font-size': 11, fill: '#111111' }, spec.thresholdLegend));
  return el('g', { class: 'legend' }, ...items);
}
