/**
 * Test stand-ins for a host with RDMA hardware: a sysfs tree in a temp directory laid out like the
 * kernel's (sysfs-sriov-rdma.md §3.1), and fake perftest executables (shell scripts) that the real
 * process-spawning code runs from PATH. The fakes speak perftest's command line (`-d`, `-p`, a
 * trailing server address for the client) and print perftest output given by the test.
 *
 * Server and client of one test meet through marker files named after the TCP port (`-p`), the
 * way the real ones meet on that port: the server marks itself up and waits for its client; a
 * client that finds no server fails like perftest's "Couldn't connect".
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeDevice {
  readonly name: string;
  readonly pci: string;
  readonly rate?: string;
  readonly state?: string;
  readonly linkLayer?: string;
  readonly numa?: number;
  /** PF address when the device is a VF. */
  readonly physfn?: string;
}

export async function makeTempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `rdmasched-${prefix}-`));
}

/** Builds `<root>/class/infiniband/<dev>` entries pointing at `<root>/devices/pci0000:00/<bdf>`. */
export async function makeSysfs(root: string, devices: readonly FakeDevice[]): Promise<void> {
  const classDir = join(root, 'class', 'infiniband');
  await mkdir(classDir, { recursive: true });
  for (const d of devices) {
    const pciDir = join(root, 'devices', 'pci0000:00', '0000:00:02.0', d.pci);
    const devDir = join(pciDir, 'infiniband', d.name);
    const portDir = join(devDir, 'ports', '1');
    await mkdir(portDir, { recursive: true });
    await writeFile(join(pciDir, 'numa_node'), `${d.numa ?? -1}\n`);
    if (d.physfn !== undefined) {
      await mkdir(join(pciDir, '..', d.physfn), { recursive: true });
      await symlink(join('..', d.physfn), join(pciDir, 'physfn'));
    }
    if (d.rate !== undefined) await writeFile(join(portDir, 'rate'), `${d.rate}\n`);
    await writeFile(join(portDir, 'state'), `${d.state ?? '4: ACTIVE'}\n`);
    await writeFile(join(portDir, 'link_layer'), `${d.linkLayer ?? 'InfiniBand'}\n`);
    await symlink(join('..', '..', '..', d.pci), join(devDir, 'device'));
    // As in the kernel, the class entry is a symlink to the device's directory.
    await symlink(devDir, join(classDir, d.name));
  }
}

/** Client behaviours the fake can act out (FAKE_MODE). */
export type FakeMode = 'ok' | 'refuse-first' | 'hang-client' | 'fail-client' | 'garbage';

const SCRIPT = `#!/bin/sh
# Fake perftest written by bench/test/integration/fake-host.ts. See that file.
tool=$(basename "$0")
state="$FAKE_STATE_DIR"
echo "$$ $tool $*" >> "$state/calls.log"
port=18515
host=""
while [ $# -gt 0 ]; do
  case "$1" in
    -p) port="$2"; shift 2 ;;
    -d|-i|-s|-q|-D|-x) shift 2 ;;
    -*) shift ;;
    *) host="$1"; shift ;;
  esac
done
case "$tool" in
  *_bw) out="$FAKE_BW_OUTPUT" ;;
  *) out="$FAKE_LAT_OUTPUT" ;;
esac
if [ -z "$host" ]; then
  touch "$state/server-up-$port"
  echo "************************************"
  echo "* Waiting for client to connect... *"
  echo "************************************"
  while [ ! -f "$state/client-done-$port" ]; do sleep 0.05; done
  exit 0
fi
if [ ! -f "$state/server-up-$port" ]; then
  echo " Couldn't connect to $host:$port" >&2
  exit 1
fi
case "$FAKE_MODE" in
  refuse-first)
    if [ ! -f "$state/refused-$port" ]; then
      touch "$state/refused-$port"
      echo " Couldn't connect to $host:$port" >&2
      exit 1
    fi ;;
  hang-client) sleep 1000 ;;
  fail-client)
    echo " Failed to complete run_iter_bw function successfully" >&2
    touch "$state/client-done-$port"
    exit 1 ;;
  garbage)
    echo "segmentation fault"
    touch "$state/client-done-$port"
    exit 0 ;;
esac
cat "$out"
touch "$state/client-done-$port"
exit 0
`;

export interface FakePerftest {
  readonly binDir: string;
  readonly stateDir: string;
  /** Environment for the runner: PATH with the fakes first, and their settings. */
  env(opts: { mode?: FakeMode; bwOutput: string; latOutput: string }): NodeJS.ProcessEnv;
  /** Lines of calls.log: `<pid> <tool> <args...>`. */
  calls(): Promise<{ pid: number; tool: string; args: string[] }[]>;
}

export async function installFakePerftest(
  dir: string,
  tools: readonly string[] = [
    'ib_write_bw',
    'ib_write_lat',
    'ib_read_bw',
    'ib_read_lat',
    'ib_send_bw',
    'ib_send_lat',
  ],
): Promise<FakePerftest> {
  const binDir = join(dir, 'bin');
  const stateDir = join(dir, 'state');
  await mkdir(binDir, { recursive: true });
  await mkdir(stateDir, { recursive: true });
  for (const t of tools) {
    await writeFile(join(binDir, t), SCRIPT);
    await chmod(join(binDir, t), 0o755);
  }
  return {
    binDir,
    stateDir,
    env: (o) => ({
      PATH: `${binDir}:/usr/bin:/bin`,
      FAKE_STATE_DIR: stateDir,
      FAKE_MODE: o.mode ?? 'ok',
      FAKE_BW_OUTPUT: o.bwOutput,
      FAKE_LAT_OUTPUT: o.latOutput,
    }),
    calls: async () => {
      const text = await readFile(join(stateDir, 'calls.log'), 'utf8').catch(() => '');
      return text
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => {
          const [pid, tool, ...args] = l.split(' ');
          return { pid: Number(pid), tool: tool ?? '', args };
        });
    },
  };
}

/**
 * True when no live process is left in the process group led by `pid` (the runner starts each
 * perftest in its own group). Zombies count as gone: they have exited and only wait for their
 * parent (or init, for orphaned grandchildren) to reap them. Reads /proc: these tests run on Linux.
 */
export async function groupGone(pid: number): Promise<boolean> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => null);
    if (stat === null) continue;
    // pid (comm) state ppid pgrp ...; comm may contain spaces, so split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const [state, , pgrp] = fields;
    if (Number(pgrp) === pid && state !== 'Z' && state !== 'X') return false;
  }
  return true;
}
