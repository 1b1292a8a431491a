/** Finds the perftest tools (`ib_write_bw`, ...) the way a shell would: the first executable on PATH. */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

export interface ToolLookup {
  /** Tool name -> absolute path, for the tools found. */
  readonly found: ReadonlyMap<string, string>;
  readonly missing: readonly string[];
  /** The directories searched, in order. */
  readonly searched: readonly string[];
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    if (!(await stat(path)).isFile()) return false;
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Looks each tool up in `dir` when given (perftest installed outside PATH), else in the PATH
 * entries. Relative PATH entries are ignored, as they would resolve against an arbitrary cwd.
 */
export async function findTools(
  tools: readonly string[],
  opts: { dir?: string; path?: string },
): Promise<ToolLookup> {
  const searched =
    opts.dir !== undefined
      ? [opts.dir]
      : (opts.path ?? '').split(delimiter).filter((d) => d !== '' && isAbsolute(d));
  const found = new Map<string, string>();
  const missing: string[] = [];
  for (const tool of [...new Set(tools)]) {
    let hit: string | undefined;
    for (const dir of searched) {
      const candidate = join(dir, tool);
      if (await isExecutableFile(candidate)) {
        hit = candidate;
        break;
      }
    }
    if (hit === undefined) missing.push(tool);
    else found.set(tool, hit);
  }
  return { found, missing, searched };
}
