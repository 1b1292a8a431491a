/**
 * Kubernetes label selector semantics (metav1.LabelSelector), as the apiserver and
 * kube-scheduler apply them: every matchLabels pair and every matchExpressions requirement must
 * hold; an empty selector matches everything.
 */
import type { LabelSelector, LabelSelectorRequirement } from './generated/types.js';

export type Labels = Readonly<Record<string, string | undefined>>;

function requirementHolds(req: LabelSelectorRequirement, labels: Labels): boolean {
  const value = Object.hasOwn(labels, req.key) ? labels[req.key] : undefined;
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      // An In without values is invalid (the schema rejects it); it matches nothing.
      return value !== undefined && values.includes(value);
    case 'NotIn':
      // As in Kubernetes, NotIn also matches objects without the label.
      return values.length > 0 && (value === undefined || !values.includes(value));
    case 'Exists':
      return value !== undefined;
    case 'DoesNotExist':
      return value === undefined;
  }
}

/**
 * True when `labels` satisfy `selector`. An absent selector (undefined) matches nothing, an empty
 * one ({}) everything, as `metav1.LabelSelectorAsSelector` does.
 */
export function matchesLabelSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (selector === undefined) return false;
  for (const [key, want] of Object.entries(selector.matchLabels ?? {})) {
    if (want === undefined) continue;
    if (!Object.hasOwn(labels, key) || labels[key] !== want) return false;
  }
  return (selector.matchExpressions ?? []).every((req) => requirementHolds(req, labels));
}

/**
 * The string form the API's `labelSelector` query parameter takes
 * (`a=b,c in (x,y),!d`), for listing the objects a selector matches. Keys and values are
 * already restricted by the schema to characters that need no escaping.
 */
export function labelSelectorToString(selector: LabelSelector): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(selector.matchLabels ?? {}).sort(([a], [b]) =>
    a < b ? -1 : 1,
  )) {
    if (value !== undefined) parts.push(`${key}=${value}`);
  }
  for (const req of selector.matchExpressions ?? []) {
    const values = [...(req.values ?? [])].sort().join(',');
    switch (req.operator) {
      case 'In':
        parts.push(`${req.key} in (${values})`);
        break;
      case 'NotIn':
        parts.push(`${req.key} notin (${values})`);
        break;
      case 'Exists':
        parts.push(req.key);
        break;
      case 'DoesNotExist':
        parts.push(`!${req.key}`);
        break;
    }
  }
  return parts.join(',');
}
