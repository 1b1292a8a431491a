/**
 * The string selectors of the list and watch query parameters: `labelSelector`
 * (`a=b,c in (x,y),!d`) and `fieldSelector` (`spec.nodeName=n1,status.phase!=Failed`), parsed as
 * k8s.io/apimachinery does for the operators it supports (not Gt/Lt).
 */
import { matchesLabelSelector, type LabelSelector, type LabelSelectorRequirement } from '@rdmasched/crds';
import { badRequest } from './api-error.js';

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter((p) => p !== '');
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?`;
const SET_RE = new RegExp(String.raw`^(${KEY})\s+(in|notin)\s+\(\s*([^)]*)\)$`);
const EQ_RE = new RegExp(String.raw`^(${KEY})\s*(==|=|!=)\s*(${VALUE})$`);
const EXISTS_RE = new RegExp(String.raw`^(!?)\s*(${KEY})$`);

/** Parses a `labelSelector` query parameter into a LabelSelector; 400 BadRequest when malformed. */
export function parseLabelSelector(text: string): LabelSelector {
  const matchExpressions: LabelSelectorRequirement[] = [];
  for (const part of splitTopLevel(text)) {
    let m = SET_RE.exec(part);
    if (m !== null) {
      const values = (m[4] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 0)
        throw badRequest(`unable to parse requirement: ${part}: values must be non-empty`);
      matchExpressions.push({ key: m[1] ?? '', operator: m[3] === 'in' ? 'In' : 'NotIn', values });
      continue;
    }
    m = EQ_RE.exec(part);
    if (m !== null) {
      matchExpressions.push({
        key: m[1] ?? '',
        operator: m[3] === '!=' ? 'NotIn' : 'In',
        values: [m[4] ?? ''],
      });
      continue;
    }
    m = EXISTS_RE.exec(part);
    if (m !== null) {
      matchExpressions.push({ key: m[2] ?? '', operator: m[1] === '!' ? 'DoesNotExist' : 'Exists' });
      continue;
    }
    throw badRequest(
      `unable to parse requirement: found '${part}', expected: key, !key, key=value, key!=value, key in (...), key notin (...)`,
    );
  }
  return { matchExpressions };
}

export interface FieldRequirement {
  readonly field: string;
  readonly op: '=' | '!=';
  readonly value: string;
}

/** Parses a `fieldSelector` query parameter; 400 BadRequest when malformed. */
export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const m = /^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (m === null) throw badRequest(`invalid selector: '${text}'; can't understand '${part}'`);
    out.push({ field: m[1] ?? '', op: m[2] === '!=' ? '!=' : '=', value: (m[3] ?? '').replaceAll('\\', '') });
  }
  return out;
}

/** An object filter built from both selectors; undefined selectors match everything. */
export interface ObjectFilter {
  readonly labels: LabelSelector | undefined;
  readonly fields: readonly FieldRequirement[];
}

export function matchesFilter(
  filter: ObjectFilter,
  labels: Record<string, string>,
  fieldValue: (field: string) => string,
): boolean {
  if (filter.labels !== undefined && !matchesLabelSelector(filter.labels, labels)) return false;
  return filter.fields.every((req) => (fieldValue(req.field) === req.value) === (req.op === '='));
}
