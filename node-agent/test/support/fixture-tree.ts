/**
 * Writes a flat tree listing (`F path "json content"`, `L path target`, `D path`) into a directory.
 * Deliberately tiny and independent of the simulator: the listing is the fixture.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { scratchBase } from './harness.js';

export function materializeTree(listingFile: string, dir: string): void {
  for (const line of readFileSync(listingFile, 'utf8').split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const kind = line[0];
    const rest = line.slice(2);
    const space = rest.indexOf(' ');
    const path = join(dir, space < 0 ? rest : rest.slice(0, space));
    const arg = space < 0 ? '' : rest.slice(space + 1);
    if (kind === 'D') mkdirSync(path, { recursive: true });
    else {
      mkdirSync(dirname(path), { recursive: true });
      if (kind === 'F') writeFileSync(path, JSON.parse(arg) as string);
      else if (kind === 'L') symlinkSync(arg, path);
      else throw new Error(`bad fixture line: ${line}`);
    }
  }
}

/** The hand-written reference host in a fresh temporary directory; returns its sysfs root. */
export function referenceHostFixture(): { sysfsRoot: string; cleanup: () => void } {
  const dir = mkdtempSync(join(scratchBase(), 'rdmasched-fixture-'));
  materializeTree(new URL('../fixtures/reference-host.sysfs.txt', import.meta.url).pathname, dir);
  return { sysfsRoot: join(dir, 'sys'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
