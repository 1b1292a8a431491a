/**
 * What the simulated host knows that sysfs does not show: each NIC's identity (as its firmware and
 * EEPROM would) and the eswitch's per-VF admin settings (`ip link set <pf> vf N ...`). Kept in
 * `<dir>/sim/state.json` beside the tree, so the same host can be reopened (an agent restart does
 * not reboot the host). Discovery never reads it.
 */
import { join } from 'node:path';
import { NODE_FS, type SimFs } from '../fs/sim-fs.js';

export interface NicInfo {
  readonly linkType: 'ib' | 'roce';
  readonly netdev: string;
  /** Node/port GUID in `ip` form. */
  readonly nodeGuid: string;
  readonly mac: string | null;
  readonly portState: string;
  readonly rate: string;
  readonly mtu: number;
  readonly firmwareVersion: string;
  readonly gidTableLength: number;
  readonly lid: number;
}

export interface VportConfig {
  nodeGuid: string | null;
  portGuid: string | null;
  mac: string | null;
}

export interface SimState {
  version: 1;
  hostname: string;
  totalCpus: number;
  nextIfindex: number;
  nextIommuGroup: number;
  nextAux: number;
  nics: Record<string, NicInfo>;
  /** PF address -> VF index -> admin settings. */
  vports: Record<string, Record<string, VportConfig>>;
  /** Driver -> dynamic ids written to new_id (`"15b3 101e"`). */
  dynamicIds: Record<string, string[]>;
}

export function statePath(dir: string): string {
  return join(dir, 'sim', 'state.json');
}

export function loadSimState(dir: string, fs: SimFs = NODE_FS): SimState {
  let text: string;
  try {
    text = fs.readFileSync(statePath(dir), 'utf8');
  } catch (err: unknown) {
    throw new Error(
      `${dir} is not a simulated host (no sim/state.json); create one with "rdmasched-agent sim create"`,
      {
        cause: err,
      },
    );
  }
  const v = JSON.parse(text) as SimState;
  if (v.version !== 1) throw new Error(`${statePath(dir)}: unsupported version ${String(v.version)}`);
  return v;
}

export function saveSimState(dir: string, state: SimState, fs: SimFs = NODE_FS): void {
  fs.mkdirSync(join(dir, 'sim'), { recursive: true });
  const tmp = `${statePath(dir)}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 1)}\n`);
  fs.renameSync(tmp, statePath(dir));
}
