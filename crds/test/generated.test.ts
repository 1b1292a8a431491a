// The generated types and manifest data must be exactly what the generator makes from the YAML
// today: CI fails when someone edits the YAML without regenerating (or edits the output by hand).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { generate } from '../scripts/generate-types.mjs';

const crdsDir = fileURLToPath(new URL('..', import.meta.url));

describe('generated files', () => {
  it('match what crds/scripts/generate-types.mjs makes from crds/manifests (run `npm run generate -w @rdmasched/crds`)', async () => {
    const files = await generate();
    expect(files.map((f) => f.path).sort()).toEqual(['src/generated/manifests.ts', 'src/generated/types.ts']);
    for (const file of files) {
      const committed = await readFile(crdsDir + file.path, 'utf8');
      expect(committed, `${file.path} is stale`).toBe(file.content);
    }
  });
});
