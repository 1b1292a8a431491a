import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { PRESETS, presetSpec, type PresetOptions } from '../adapters/sim/presets.js';
import { SimulatedHost } from '../adapters/sim/simulated-host.js';
import { SpecError, parseHostSpec, walkDevices, type HostSpec } from '../adapters/sim/spec.js';

export const SIM_USAGE = `usage: rdmasched-agent sim <command>

  sim create (--preset NAME | --spec FILE) [sizes] DIR
        write a simulated host (a faithful sysfs tree under DIR/sys) for discovery and the agent
  sim presets
        list the presets
  sim spec --preset NAME [sizes]
        print a preset's spec as YAML (a start for your own --spec file)

sizes (apply to every SR-IOV NIC of a preset):
  --total-vfs N       sriov_totalvfs
  --num-vfs N         VFs enabled at creation
  --configured-vfs N  of those, VFs already given a GUID/MAC
  --hostname NAME     host name in RDMA node_desc (default: DIR's name)`;

function parseSimArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      preset: { type: 'string' },
      spec: { type: 'string' },
      'total-vfs': { type: 'string' },
      'num-vfs': { type: 'string' },
      'configured-vfs': { type: 'string' },
      hostname: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

function sizes(v: {
  'total-vfs'?: string | undefined;
  'num-vfs'?: string | undefined;
  'configured-vfs'?: string | undefined;
}): PresetOptions {
  const n = (name: string, s: string | undefined): number | undefined => {
    if (s === undefined) return undefined;
    if (!/^[0-9]{1,5}$/.test(s) || Number(s) > 65535)
      throw new SpecError([`--${name}: ${JSON.stringify(s)} is not a count (0..65535)`]);
    return Number(s);
  };
  const total = n('total-vfs', v['total-vfs']);
  const num = n('num-vfs', v['num-vfs']);
  const conf = n('configured-vfs', v['configured-vfs']);
  return {
    ...(total === undefined ? {} : { totalVfs: total }),
    ...(num === undefined ? {} : { numVfs: num }),
    ...(conf === undefined ? {} : { configuredVfs: conf }),
  };
}

export function simCommand(argv: readonly string[]): number {
  const [sub, ...rest] = argv;
  let parsed;
  try {
    parsed = parseSimArgs(rest);
  } catch (err: unknown) {
    console.error(`${(err as Error).message}\n\n${SIM_USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (sub === undefined || sub === 'help' || values.help) {
    console.log(SIM_USAGE);
    return sub === undefined ? 2 : 0;
  }
  try {
    if (sub === 'presets') {
      for (const p of PRESETS) console.log(`${p.name.padEnd(16)} ${p.description}`);
      return 0;
    }
    if (sub === 'spec') {
      if (values.preset === undefined) throw new SpecError(['--preset NAME is required']);
      console.log(stringify(presetSpec(values.preset, sizes(values))));
      return 0;
    }
    if (sub !== 'create') {
      console.error(`unknown sim command ${JSON.stringify(sub)}\n\n${SIM_USAGE}`);
      return 2;
    }
    const dir = positionals[0];
    if (dir === undefined || positionals.length > 1)
      throw new SpecError(['give exactly one directory to create the host in']);
    if ((values.preset === undefined) === (values.spec === undefined))
      throw new SpecError(['give exactly one of --preset NAME or --spec FILE']);
    let spec: HostSpec;
    if (values.spec !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.spec, 'utf8');
      } catch {
        throw new SpecError([`--spec: cannot read ${values.spec}`]);
      }
      spec = parseHostSpec(text, values.spec);
    } else {
      spec = presetSpec(values.preset ?? '', sizes(values));
    }
    let nics = 0;
    let gpus = 0;
    let vfs = 0;
    for (const { device } of walkDevices(spec)) {
      if (device.type === 'gpu') gpus++;
      if (device.type === 'nic') {
        nics++;
        vfs += device.sriov?.numVfs ?? 0;
      }
    }
    console.error(
      `writing a simulated host (${gpus} GPUs, ${nics} ConnectX PFs, ${vfs} VFs) into ${dir} ...`,
    );
    const started = performance.now();
    const sim = SimulatedHost.create(dir, spec, {
      ...(values.hostname === undefined ? {} : { hostname: values.hostname }),
      onProgress: (line) => console.error(`  ${line}`),
    });
    console.error(`done in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    console.log(`sysfs root: ${sim.sysfsRoot}\ntry: rdmasched-agent discover --sysfs-root ${sim.sysfsRoot}`);
    return 0;
  } catch (err: unknown) {
    if (err instanceof SpecError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof Error && /not empty/.test(err.message)) {
      console.error(err.message);
      return 1;
    }
    throw err;
  }
}
