/**
 * Evaluates a CRD's x-kubernetes-validations CEL rules with a CEL interpreter, as the apiserver
 * does, so the rules in the YAML are the ones that run (no hand-written twin to drift).
 * Supported: `self`, the standard CEL macros and functions, `message`, `fieldPath`, `reason`.
 * Not supported: transition rules (`oldSelf`), `messageExpression`, and the Kubernetes CEL
 * libraries (lists, regex extensions, quantity, ...): the rules here do not use them, and the
 * manifest test fails if a rule does not compile.
 */
import { Environment } from '@marcbachmann/cel-js';
import type { CelRule, CrdSchema } from './crd-manifest.js';
import { toCelValue, walkSchema } from './schema-walk.js';

type CompiledRule = (context: { self: unknown }) => unknown;

const env = new Environment().registerVariable('self', 'dyn');
const compiled = new Map<string, CompiledRule>();

/** Compiles a rule once; throws (with the CEL parser's message) when it is not valid CEL. */
export function compileCelRule(rule: string): CompiledRule {
  let fn = compiled.get(rule);
  if (fn === undefined) {
    if (rule.includes('oldSelf')) throw new Error(`transition rules (oldSelf) are not supported: ${rule}`);
    const parsed = env.parse(rule);
    fn = (context) => parsed(context) as unknown;
    compiled.set(rule, fn);
  }
  return fn;
}

export interface CelViolation {
  readonly path: string;
  readonly message: string;
  readonly reason: NonNullable<CelRule['reason']>;
  readonly rule: string;
}

/** `.quota.ib` -> `/quota/ib` (the simple dotted fieldPath form the manifests use). */
function fieldPathToPointer(fieldPath: string | undefined): string {
  if (fieldPath === undefined || fieldPath === '') return '';
  return fieldPath
    .split('.')
    .filter((s) => s !== '')
    .map((s) => `/${s}`)
    .join('');
}

/** Every rule of every schema node present in `value` that does not evaluate to true. */
export function celViolations(value: unknown, schema: CrdSchema): CelViolation[] {
  const out: CelViolation[] = [];
  const celValue = toCelValue(value, schema);
  walkSchema(celValue, schema, ({ value: self, schema: nodeSchema, path }) => {
    for (const rule of nodeSchema['x-kubernetes-validations'] ?? []) {
      let result: unknown;
      let failure: string | undefined;
      try {
        result = compileCelRule(rule.rule)({ self });
      } catch (err: unknown) {
        failure = `rule could not be evaluated (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): ${rule.rule}`;
      }
      if (failure === undefined && result === true) continue;
      out.push({
        path: path + fieldPathToPointer(rule.fieldPath),
        message: failure ?? rule.message ?? `failed rule: ${rule.rule}`,
        reason: rule.reason ?? 'FieldValueInvalid',
        rule: rule.rule,
      });
    }
  });
  return out;
}
