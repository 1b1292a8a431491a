/**
 * Parsers for pod options given on the command line, with the API server's own rules (qualified
 * names, label values, quantities), so a bad value is refused here with a sentence rather than by
 * the API server halfway through a run. Pure.
 */
import type { V1Toleration } from '@kubernetes/client-node';

/** `[prefix/]name`: prefix a DNS-1123 subdomain (≤ 253), name ≤ 63 alphanumerics with `-_.` inside. */
const NAME_PART = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return NAME_PART.test(key);
  const prefix = key.slice(0, slash);
  return prefix.length <= 253 && DNS_SUBDOMAIN.test(prefix) && NAME_PART.test(key.slice(slash + 1));
}

/** Label values: empty, or ≤ 63 alphanumerics with `-_.` inside. */
export function isLabelValue(value: string): boolean {
  return value === '' || NAME_PART.test(value);
}

/** `KEY=VALUE`; the value may contain `=` and is limited to 64 KiB. */
export function parseAnnotation(text: string): { key: string; value: string } | string {
  const eq = text.indexOf('=');
  if (eq <= 0) return 'must be KEY=VALUE';
  const key = text.slice(0, eq);
  const value = text.slice(eq + 1);
  if (!isQualifiedName(key)) return `${JSON.stringify(key)} is not a valid annotation key ([prefix/]name)`;
  if (Buffer.byteLength(value) > 65536) return 'the value is longer than 64 KiB';
  return { key, value };
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

/** `KEY[=VALUE][:EFFECT]`: with a value `Equal`, without one `Exists`; no effect = every effect. */
export function parseToleration(text: string): V1Toleration | string {
  const m = /^([^=:]+)(?:=([^:]*))?(?::([A-Za-z]+))?$/.exec(text);
  if (m === null) return 'must be KEY[=VALUE][:EFFECT]';
  const [, key = '', value, effect] = m;
  if (!isQualifiedName(key)) return `${JSON.stringify(key)} is not a valid taint key`;
  if (value !== undefined && !isLabelValue(value))
    return `${JSON.stringify(value)} is not a valid taint value`;
  if (effect !== undefined && !(EFFECTS as readonly string[]).includes(effect))
    return `effect must be ${EFFECTS.join(', ')}, got ${JSON.stringify(effect)}`;
  return {
    key,
    operator: value !== undefined ? 'Equal' : 'Exists',
    ...(value !== undefined ? { value } : {}),
    ...(effect !== undefined ? { effect } : {}),
  };
}

const SUFFIX_FACTOR: Readonly<Record<string, number>> = {
  '': 1,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** A Kubernetes resource quantity (`4`, `500m`, `8Gi`, `1.5`) as a number; undefined when malformed or ≤ 0. */
export function parseQuantity(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?|\.\d+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/.exec(text);
  if (m === null) return undefined;
  const n = Number(m[1]) * (SUFFIX_FACTOR[m[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(n) && n > 0 ? n : undefined;
}
