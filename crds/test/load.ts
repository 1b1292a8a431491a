// Loads the YAML files of crds/ for the tests.
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export const crdsDir = fileURLToPath(new URL('..', import.meta.url));

export async function loadYamlDir(dir: string): Promise<{ file: string; doc: unknown }[]> {
  const files = (await readdir(crdsDir + dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (file) => ({
      file,
      doc: parse(await readFile(`${crdsDir}${dir}/${file}`, 'utf8')) as unknown,
    })),
  );
}
