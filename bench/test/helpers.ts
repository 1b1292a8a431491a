import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Absolute path of a file in bench/test/fixtures. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
}

/** Contents of a file in bench/test/fixtures (see fixtures/SOURCES.md for where each comes from). */
export function readFixture(name: string): string {
  return readFileSync(fixturePath(name), 'utf8');
}

/** Unwraps a parse outcome in a test, failing with the parser's own message. */
export function expectOk<T>(outcome: { ok: true; value: T } | { ok: false; error: { message: string } }): T {
  if (!outcome.ok) throw new Error(`expected ok, got: ${outcome.error.message}`);
  return outcome.value;
}
