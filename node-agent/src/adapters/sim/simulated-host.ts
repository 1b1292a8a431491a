/**
 * A simulated host: a faithful sysfs tree in a directory, and the kernel's answers to writes into
 * it (reference: sysfs-sriov-rdma.md §1.2, §1.5, §7.5), plus an emulation of the `ip`/`devlink`
 * commands the agent runs. Implements `HostControl` like `SysfsHost` does on Linux.
 *
 * Discovery never asks this class anything: it reads `sysfsRoot` with the same `FsSysfsReader` it
 * uses on Linux (`reader()` only adds the optional read faults). One SimulatedHost per directory
 * at a time: it is the host's kernel.
 */
import { basename, dirname, join, relative, sep } from 'node:path';
import { isGuid, isMac, isNetdevName, isPciAddress } from '@rdmasched/contracts';
import { kstrtobool, kstrtou16 } from '../../core/sysfs-values.js';
import type { CommandExecutor, CommandResult } from '../../ports/command-executor.js';
import {
  failureFromCommand,
  type EswitchMode,
  type HostControl,
  type HostErrno,
  type HostFailure,
  type HostOutcome,
  type VfAdminConfig,
} from '../../ports/host-control.js';
import type { SysfsReader } from '../../ports/sysfs-reader.js';
import { FaultInjectingReader, type ReadFault } from '../fs/fault-injecting-reader.js';
import { FsSysfsReader, isSafeRelativePath } from '../fs/fs-sysfs-reader.js';
import { devlinkArgv, ipArgv, parseEswitchMode, parseVfInfoList } from '../iproute2.js';
import { ipoibAddress } from './device-files.js';
import { KNOWN_DRIVERS, SimKernel } from './kernel.js';
import { NODE_FS, type SimFs } from '../fs/sim-fs.js';
import type { Kernfs } from './kernfs.js';
import { loadSimState } from './sim-state.js';
import type { HostSpec } from './spec.js';
import type { SimulatedHostTemplates } from './templates.js';
import { createSimulatedTree } from './tree-builder.js';

/** A write fault: writes to matching paths (relative to the sysfs root) fail with `errno`. */
export interface WriteFault {
  readonly path: RegExp;
  readonly errno: HostErrno;
  /** How many writes fail (default: all). */
  times?: number;
}

/** What the simulated kernel saw, for tests: every sysfs write and command, with its outcome. */
export type HostEvent =
  | { readonly kind: 'write'; readonly path: string; readonly value: string; readonly outcome: HostOutcome }
  | { readonly kind: 'command'; readonly argv: readonly string[]; readonly exitCode: number };

export interface SimulatedHostOptions {
  /** Reads of matching paths fail (e.g. EINVAL on `gid_attrs/ndevs/*`), through `reader()`. */
  readonly readFaults?: readonly ReadFault[];
  readonly readDelayMs?: number;
  readonly writeFaults?: WriteFault[];
  /** A `sriov_numvfs` write that enables VFs blocks this long (real firmware takes seconds). */
  readonly numVfsDelayMs?: number;
  /** New VFs appear at once but their driver binds this much later (the agent must wait). */
  readonly vfProbeDelayMs?: number;
  /**
   * Called before each sysfs write is applied, inside the kernel's lock: tests check invariants
   * here ("no write to sriov_numvfs on a PF with a VF in use") and may change the world.
   */
  readonly beforeWrite?: (w: { readonly path: string; readonly value: string }) => void;
  /** Called after each write or command. */
  readonly onEvent?: (e: HostEvent) => void;
}

const ok: HostOutcome = { ok: true };
const fail = (errno: HostErrno, message: string): HostFailure => ({ ok: false, errno, message });

export interface CreateHostOptions extends SimulatedHostOptions {
  /** Host name (RDMA `node_desc`, GPU UUIDs); default: the directory's name. */
  readonly hostname?: string;
  readonly onProgress?: (line: string) => void;
  /** The filesystem to write the host into (default: the host's own disk). */
  readonly fs?: SimFs;
}

export class SimulatedHost implements HostControl {
  readonly dir: string;
  /** `<dir>/sys`: give this to discovery as its sysfs root. */
  readonly sysfsRoot: string;
  /** `<dir>/proc`: the simulated procfs (NVIDIA GPU information files). */
  readonly procRoot: string;
  /** The filesystem the host lives in (node:fs, or a MemoryFs for an in-memory host). */
  readonly fs: SimFs;
  readonly executor: CommandExecutor;
  readonly #kernel: SimKernel;
  readonly #kfs: Kernfs;
  readonly #fs: SimFs;
  readonly #opts: SimulatedHostOptions;
  #chain: Promise<unknown> = Promise.resolve();
  readonly #pending = new Set<Promise<void>>();

  private constructor(kernel: SimKernel, opts: SimulatedHostOptions) {
    this.#kernel = kernel;
    this.#kfs = kernel.kfs;
    this.#fs = kernel.fs;
    this.fs = kernel.fs;
    this.#opts = opts;
    this.dir = kernel.dir;
    this.sysfsRoot = kernel.sys;
    this.procRoot = join(kernel.dir, 'proc');
    this.executor = { run: (file, args) => this.#serial(() => this.#run(file, args)) };
  }

  /** Writes a new tree for `spec` into `dir` (absent or empty) and opens it. */
  static create(dir: string, spec: HostSpec, opts: CreateHostOptions = {}): SimulatedHost {
    return new SimulatedHost(
      createSimulatedTree(dir, spec, {
        ...(opts.hostname === undefined ? {} : { hostname: opts.hostname }),
        ...(opts.onProgress === undefined ? {} : { onProgress: opts.onProgress }),
        ...(opts.fs === undefined ? {} : { fs: opts.fs }),
      }),
      opts,
    );
  }

  /** Opens a tree written earlier (e.g. by `rdmasched-agent sim create`). */
  static open(dir: string, opts: SimulatedHostOptions & { readonly fs?: SimFs } = {}): SimulatedHost {
    const fs = opts.fs ?? NODE_FS;
    return new SimulatedHost(new SimKernel(dir, loadSimState(dir, fs), { fs }), opts);
  }

  /**
   * A host in memory, made from the template of its spec (built once per spec by `templates`, then
   * shared copy-on-write): fast (no tree is written) and small (only what changes is copied).
   * It lives at `/host` in its own `MemoryFs`.
   */
  static inMemory(
    spec: HostSpec,
    opts: SimulatedHostOptions & { readonly hostname: string; readonly templates: SimulatedHostTemplates },
  ): SimulatedHost {
    return new SimulatedHost(opts.templates.instantiate(spec, opts.hostname), opts);
  }

  /** The reader discovery uses: `FsSysfsReader` on the tree, with the configured read faults. */
  reader(): SysfsReader {
    const inner = new FsSysfsReader(this.sysfsRoot, this.#fs.promises);
    const faults = this.#opts.readFaults ?? [];
    const delay = this.#opts.readDelayMs ?? 0;
    return faults.length === 0 && delay === 0
      ? inner
      : new FaultInjectingReader(inner, { faults, delayMs: delay });
  }

  /** The host name the tree was made for. */
  get hostname(): string {
    return this.#kernel.state.hostname;
  }

  /** Waits until delayed driver probes have finished. */
  async settle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all([...this.#pending]);
    await this.#serial(() => Promise.resolve());
  }

  /** Adds traffic to a PF's port counters (`port_xmit_data` counts 4-byte units). */
  addTraffic(
    pf: string,
    t: { xmitBytes: number; rcvBytes: number; xmitPackets: number; rcvPackets: number },
  ): boolean {
    return this.#kernel.addTraffic(pf, t);
  }

  #serial<T>(fn: () => Promise<T> | T): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  // ---------------------------------------------------------------- raw kernel writes

  /** `echo -n <value> > <sysfsRoot>/<path>`, with the kernel's semantics. */
  writeSysfs(path: string, value: string): Promise<HostOutcome> {
    return this.#serial(async () => {
      this.#opts.beforeWrite?.({ path, value });
      const fault = this.#opts.writeFaults?.find(
        (f) => f.path.test(path) && (f.times === undefined || f.times > 0),
      );
      let outcome: HostOutcome;
      if (fault !== undefined) {
        if (fault.times !== undefined) fault.times--;
        outcome = fail(fault.errno, `write ${path}: injected ${fault.errno}`);
      } else {
        outcome = await this.#write(path, value);
      }
      this.#opts.onEvent?.({ kind: 'write', path, value, outcome });
      return outcome;
    });
  }

  async #write(path: string, value: string): Promise<HostOutcome> {
    const where = `write ${path}`;
    if (!isSafeRelativePath(path) || path === '')
      return fail('ENOENT', `${where}: No such file or directory`);
    const k = this.#kernel;
    let dirReal: string;
    let sysReal: string;
    try {
      sysReal = this.#fs.realpathSync(k.sys);
      dirReal = this.#fs.realpathSync(join(k.sys, dirname(path)));
    } catch {
      return fail('ENOENT', `${where}: No such file or directory`);
    }
    if (dirReal !== sysReal && !dirReal.startsWith(sysReal + sep))
      return fail('ENOENT', `${where}: outside sysfs`);
    const rel = relative(sysReal, dirReal).split(sep).join('/');
    const attr = basename(path);
    const arg = value.endsWith('\n') ? value.slice(0, -1) : value;
    if (rel === 'bus/pci') return this.#busAttr(attr, arg, value, where);
    const drv = /^bus\/pci\/drivers\/([^/]+)$/.exec(rel)?.[1];
    if (drv !== undefined) return this.#driverAttr(drv, attr, arg, where);
    const bdf = basename(dirReal);
    if (isPciAddress(bdf) && this.#kfs.exists(join(dirReal, 'subsystem')) && k.deviceDir(bdf) === dirReal)
      return this.#deviceAttr(bdf, attr, value, arg, where);
    return this.#kfs.exists(join(dirReal, attr))
      ? fail('EACCES', `${where}: Permission denied (read-only attribute)`)
      : fail('ENOENT', `${where}: No such file or directory`);
  }

  #busAttr(attr: string, arg: string, raw: string, where: string): HostOutcome {
    const k = this.#kernel;
    if (attr === 'drivers_probe') {
      if (k.deviceDir(arg) === undefined) return fail('ENODEV', `${where}: No such device`);
      if (k.boundDriver(arg) !== undefined) return ok;
      const drv = k.defaultDriverFor(arg);
      if (drv !== undefined) k.attachDriver(arg, drv);
      return ok;
    }
    if (attr === 'drivers_autoprobe') {
      const b = kstrtobool(raw);
      if (!b.ok) return fail('EINVAL', `${where}: Invalid argument`);
      this.#kfs.writeAttr(join(k.sys, 'bus/pci/drivers_autoprobe'), b.value ? 1 : 0);
      return ok;
    }
    if (attr === 'rescan') return ok; // nothing is hot-plugged in a simulated host
    return this.#kfs.exists(join(k.sys, 'bus/pci', attr))
      ? fail('EACCES', `${where}: Permission denied`)
      : fail('ENOENT', `${where}: No such file or directory`);
  }

  #driverAttr(driver: string, attr: string, arg: string, where: string): HostOutcome {
    const k = this.#kernel;
    switch (attr) {
      case 'bind': {
        if (k.deviceDir(arg) === undefined || !k.driverMatches(arg, driver))
          return fail('ENODEV', `${where}: No such device`);
        if (k.boundDriver(arg) !== undefined) return fail('EBUSY', `${where}: Device or resource busy`);
        k.attachDriver(arg, driver);
        return ok;
      }
      case 'unbind': {
        if (k.boundDriver(arg) !== driver) return fail('ENODEV', `${where}: No such device`);
        k.detachDriver(arg, driver);
        return ok;
      }
      case 'new_id':
      case 'remove_id': {
        const m = /^([0-9a-fA-F]{1,4})\s+([0-9a-fA-F]{1,4})$/.exec(arg.trim());
        if (m === null) return fail('EINVAL', `${where}: Invalid argument`);
        const id = `${m[1]!.toLowerCase().padStart(4, '0')} ${m[2]!.toLowerCase().padStart(4, '0')}`;
        const ids = (k.state.dynamicIds[driver] ??= []);
        if (attr === 'remove_id') {
          if (!ids.includes(id)) return fail('ENODEV', `${where}: No such device`);
          k.state.dynamicIds[driver] = ids.filter((x) => x !== id);
        } else if (!ids.includes(id)) {
          ids.push(id);
          // new_id makes the driver probe unbound devices that now match.
          for (const bdf of this.#allDevices())
            if (k.boundDriver(bdf) === undefined && k.driverMatches(bdf, driver)) k.attachDriver(bdf, driver);
        }
        k.save();
        return ok;
      }
      default:
        return this.#kfs.exists(join(k.sys, 'bus/pci/drivers', driver, attr))
          ? fail('EACCES', `${where}: Permission denied`)
          : fail('ENOENT', `${where}: No such file or directory`);
    }
  }

  #allDevices(): string[] {
    return this.#kfs.listDir(join(this.#kernel.sys, 'bus/pci/devices')).filter(isPciAddress);
  }

  async #deviceAttr(
    bdf: string,
    attr: string,
    raw: string,
    arg: string,
    where: string,
  ): Promise<HostOutcome> {
    const k = this.#kernel;
    const dir = k.deviceDir(bdf) ?? '';
    switch (attr) {
      case 'sriov_numvfs':
        return this.#numVfs(bdf, raw, where);
      case 'sriov_drivers_autoprobe': {
        if (!this.#kfs.exists(join(dir, attr))) return fail('ENOENT', `${where}: No such file or directory`);
        const b = kstrtobool(raw);
        if (!b.ok) return fail('EINVAL', `${where}: Invalid argument`);
        this.#kfs.writeAttr(join(dir, attr), b.value ? 1 : 0);
        return ok;
      }
      case 'driver_override': {
        if (raw.length >= 4095) return fail('EINVAL', `${where}: Invalid argument`);
        const name = raw.split('\n')[0]?.split('\0')[0] ?? '';
        this.#kfs.writeAttr(join(dir, attr), name === '' ? '(null)' : name);
        return ok;
      }
      case 'numa_node': {
        const n = /^-?[0-9]+$/.test(arg.trim()) ? Number(arg.trim()) : NaN;
        if (!Number.isInteger(n) || n < -1) return fail('EINVAL', `${where}: Invalid argument`);
        this.#kfs.writeAttr(join(dir, attr), n);
        return ok;
      }
      case 'remove':
      case 'rescan':
      case 'reset':
      case 'sriov_vf_msix_count':
        return fail('EOPNOTSUPP', `${where}: not emulated by the simulated host`);
      default:
        return this.#kfs.exists(join(dir, attr))
          ? fail('EACCES', `${where}: Permission denied (read-only attribute)`)
          : fail('ENOENT', `${where}: No such file or directory`);
    }
  }

  /** `sriov_numvfs_store` (reference §1.2), in the kernel's order of checks. */
  async #numVfs(pf: string, raw: string, where: string): Promise<HostOutcome> {
    const k = this.#kernel;
    const dir = k.deviceDir(pf) ?? '';
    if (!this.#kfs.exists(join(dir, 'sriov_numvfs')))
      return fail('ENOENT', `${where}: No such file or directory`);
    const parsed = kstrtou16(raw);
    if (!parsed.ok)
      return fail(
        parsed.errno,
        `${where}: ${parsed.errno === 'EINVAL' ? 'Invalid argument' : 'Numerical result out of range'}`,
      );
    const n = parsed.value;
    const total = Number(this.#kfs.readAttr(join(dir, 'sriov_totalvfs')) ?? '0');
    if (n > total) return fail('ERANGE', `${where}: Numerical result out of range`);
    const current = k.numVfs(pf);
    if (n === current) return ok;
    if (k.boundDriver(pf) === undefined)
      return fail(
        'ENOENT',
        `${where}: No such file or directory (no driver bound to device; cannot configure SR-IOV)`,
      );
    if (n === 0) {
      k.disableVfs(pf);
      k.save();
      return ok;
    }
    if (current !== 0)
      return fail(
        'EBUSY',
        `${where}: Device or resource busy (${current} VFs already enabled. Disable before enabling ${n} VFs)`,
      );
    const delay = this.#opts.numVfsDelayMs ?? 0;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    const probeDelay = this.#opts.vfProbeDelayMs ?? 0;
    const deferred: string[] = [];
    k.enableVfs(pf, n, (vf) => {
      if (probeDelay > 0) deferred.push(vf);
      else if (k.driverMatches(vf, 'mlx5_core')) k.attachDriver(vf, 'mlx5_core');
    });
    if (deferred.length > 0) {
      const p: Promise<void> = new Promise<void>((r) => setTimeout(r, probeDelay)).then(() =>
        this.#serial(() => {
          for (const vf of deferred)
            if (
              k.deviceDir(vf) !== undefined &&
              k.boundDriver(vf) === undefined &&
              k.driverMatches(vf, 'mlx5_core')
            )
              k.attachDriver(vf, 'mlx5_core');
        }),
      );
      this.#pending.add(p);
      void p.finally(() => this.#pending.delete(p));
    }
    k.save();
    return ok;
  }

  // ---------------------------------------------------------------- emulated commands

  async #run(file: string, args: readonly string[]): Promise<CommandResult> {
    const name = basename(file);
    const r =
      name === 'ip'
        ? this.#ip(args)
        : name === 'devlink'
          ? this.#devlink(args)
          : {
              exitCode: 127,
              stdout: '',
              stderr: `${file}: command not found (not emulated by the simulated host)\n`,
            };
    this.#opts.onEvent?.({ kind: 'command', argv: [name, ...args], exitCode: r.exitCode });
    return Promise.resolve(r);
  }

  /** The PCI function behind a netdev name (`/sys/class/net/<if>/device`). */
  #functionOfNetdev(ifname: string): string | undefined {
    if (!isNetdevName(ifname)) return undefined;
    const link = join(this.#kernel.sys, 'class/net', ifname);
    try {
      return basename(this.#fs.realpathSync(join(link, 'device')));
    } catch {
      return undefined;
    }
  }

  #ip(argv: readonly string[]): CommandResult {
    const args = [...argv];
    let json = false;
    while (args[0]?.startsWith('-') === true) {
      const o = args.shift();
      if (o === '-j' || o === '-json') json = true;
    }
    const err = (exitCode: number, stderr: string): CommandResult => ({
      exitCode,
      stdout: '',
      stderr: `${stderr}\n`,
    });
    if (args[0] !== 'link')
      return err(255, `Object "${args[0] ?? ''}" is unknown (not emulated), try "ip help".`);
    const verb = args[1];
    const rest = args.slice(2);
    if (rest[0] === 'dev') rest.shift();
    const ifname = rest.shift() ?? '';
    const bdf = this.#functionOfNetdev(ifname);
    if (bdf === undefined) return err(1, `Cannot find device "${ifname}"`);
    const netDir = join(this.#kernel.sys, 'class/net', ifname);
    if (verb === 'show') {
      if (!json) return err(255, 'only `ip -j link show` is emulated');
      return {
        exitCode: 0,
        stdout: `${JSON.stringify([this.#linkJson(ifname, netDir, bdf)])}\n`,
        stderr: '',
      };
    }
    if (verb !== 'set')
      return err(255, `Command "${verb ?? ''}" is unknown (not emulated), try "ip link help".`);
    if (rest[0] === 'mtu') {
      const text = rest[1] ?? '';
      if (!/^[0-9]{1,6}$/.test(text) || rest.length !== 2)
        return err(255, `Error: argument "${text}" is wrong: Invalid "mtu" value`);
      // mlx5: IPoIB (datagram) carries at most 4092 bytes (IB MTU 4096 - 4); mlx5e Ethernet 68..9978.
      const mtu = Number(text);
      const max = this.#kfs.readAttr(join(netDir, 'type')) === '32' ? 4092 : 9978;
      if (mtu < 68 || mtu > max) return err(2, 'RTNETLINK answers: Invalid argument');
      this.#kfs.writeAttr(join(this.#fs.realpathSync(netDir), 'mtu'), mtu);
      return { exitCode: 0, stdout: '', stderr: '' };
    }
    if (rest.shift() !== 'vf')
      return err(255, 'only `ip link set <dev> vf <n> ...` and `mtu N` are emulated');
    const vfText = rest.shift() ?? '';
    if (!/^[0-9]+$/.test(vfText)) return err(255, `Error: argument "${vfText}" is wrong: Invalid "vf" value`);
    const vf = Number(vfText);
    const nic = this.#kernel.state.nics[bdf];
    const settings: [string, string][] = [];
    while (rest.length > 0) {
      const key = rest.shift() ?? '';
      const val = rest.shift();
      if (val === undefined) return err(255, `Command line is not complete. Try option "help"`);
      if ((key === 'node_guid' || key === 'port_guid') && !(val.length === 23 && isGuid(val.toLowerCase())))
        return err(255, `Error: argument "${val}" is wrong: Invalid GUID format`);
      if (key === 'mac' && !isMac(val.toLowerCase()))
        return err(255, `Error: argument "${val}" is wrong: Invalid "mac" value`);
      if (key !== 'node_guid' && key !== 'port_guid' && key !== 'mac')
        return err(255, `Error: argument "${key}" is not emulated by the simulated host`);
      settings.push([key, val.toLowerCase()]);
    }
    // The kernel side: only a PF with VF n enabled, and only settings its link type supports.
    if (nic === undefined || vf >= this.#kernel.numVfs(bdf))
      return err(2, 'RTNETLINK answers: Invalid argument');
    for (const [key, val] of settings) {
      if ((key === 'mac') !== (nic.linkType === 'roce'))
        return err(2, 'RTNETLINK answers: Operation not supported');
      if (key === 'mac' && (parseInt(val.slice(0, 2), 16) & 1) === 1)
        return err(2, 'RTNETLINK answers: Invalid argument');
    }
    const vp = this.#kernel.vport(bdf, vf);
    for (const [key, val] of settings) {
      if (key === 'node_guid') vp.nodeGuid = val;
      else if (key === 'port_guid') vp.portGuid = val;
      else vp.mac = val;
    }
    this.#kernel.save();
    return { exitCode: 0, stdout: '', stderr: '' };
  }

  #linkJson(ifname: string, netDir: string, bdf: string): Record<string, unknown> {
    const a = (n: string) => this.#kfs.readAttr(join(netDir, n)) ?? '';
    const ib = a('type') === '32';
    const k = this.#kernel;
    const nic = k.state.nics[bdf];
    const vfs: Record<string, unknown>[] = [];
    if (nic !== undefined) {
      for (let i = 0; i < k.numVfs(bdf); i++) {
        const vp = k.state.vports[bdf]?.[String(i)];
        const base = { vf: i };
        vfs.push(
          ib
            ? {
                ...base,
                link_type: 'infiniband',
                address: ipoibAddress(null).replace(/[0-9a-f]/g, '0'),
                broadcast: a('broadcast'),
                vlan_list: [{}],
                rate: { max_tx: 0, min_tx: 0 },
                spoofchk: false,
                'node guid': vp?.nodeGuid ?? '00:00:00:00:00:00:00:00',
                'port guid': vp?.portGuid ?? '00:00:00:00:00:00:00:00',
                link_state: 'auto',
                trust: false,
                query_rss_en: false,
              }
            : {
                ...base,
                link_type: 'ether',
                address: vp?.mac ?? '00:00:00:00:00:00',
                broadcast: 'ff:ff:ff:ff:ff:ff',
                vlan_list: [{}],
                rate: { max_tx: 0, min_tx: 0 },
                spoofchk: true,
                link_state: 'auto',
                trust: false,
                query_rss_en: false,
              },
        );
      }
    }
    const up = a('operstate') === 'up';
    return {
      ifindex: Number(a('ifindex')),
      ifname,
      flags: up ? ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'] : ['BROADCAST', 'MULTICAST'],
      mtu: Number(a('mtu')),
      qdisc: 'mq',
      operstate: up ? 'UP' : 'DOWN',
      linkmode: 'DEFAULT',
      group: 'default',
      txqlen: Number(a('tx_queue_len')),
      link_type: ib ? 'infiniband' : 'ether',
      address: a('address'),
      broadcast: a('broadcast'),
      ...(vfs.length > 0 ? { vfinfo_list: vfs } : {}),
    };
  }

  #devlink(argv: readonly string[]): CommandResult {
    const args = argv.filter((a) => a !== '-j' && a !== '--json');
    const handle = args[3] ?? '';
    if (args[0] !== 'dev' || args[1] !== 'eswitch' || args[2] !== 'show')
      return { exitCode: 1, stdout: '', stderr: 'only `devlink dev eswitch show` is emulated\n' };
    const bdf = handle.replace(/^pci\//, '');
    const nic = this.#kernel.state.nics[bdf];
    if (nic === undefined || this.#kernel.boundDriver(bdf) === undefined)
      return { exitCode: 1, stdout: '', stderr: `devlink answers: No such device\n` };
    if (nic.linkType === 'ib')
      return { exitCode: 1, stdout: '', stderr: 'devlink answers: Operation not supported\n' };
    return {
      exitCode: 0,
      stdout: `${JSON.stringify({ dev: { [handle]: { mode: 'legacy', 'inline-mode': 'none', 'encap-mode': 'basic' } } })}\n`,
      stderr: '',
    };
  }

  // ---------------------------------------------------------------- HostControl

  setNumVfs(pf: string, numVfs: number): Promise<HostOutcome> {
    if (!isPciAddress(pf) || !Number.isInteger(numVfs) || numVfs < 0)
      return Promise.resolve(
        fail('UNSAFE', `refused: sriov_numvfs ${String(numVfs)} for ${JSON.stringify(pf)}`),
      );
    return this.writeSysfs(`bus/pci/devices/${pf}/sriov_numvfs`, `${numVfs}\n`);
  }

  unbindDriver(device: string, driver: string): Promise<HostOutcome> {
    if (!isPciAddress(device) || !(KNOWN_DRIVERS as readonly string[]).includes(driver))
      return Promise.resolve(
        fail('UNSAFE', `refused: unbind ${JSON.stringify(device)} from ${JSON.stringify(driver)}`),
      );
    return this.writeSysfs(`bus/pci/drivers/${driver}/unbind`, `${device}\n`);
  }

  bindDriver(device: string, driver: string): Promise<HostOutcome> {
    if (!isPciAddress(device) || !(KNOWN_DRIVERS as readonly string[]).includes(driver))
      return Promise.resolve(
        fail('UNSAFE', `refused: bind ${JSON.stringify(device)} to ${JSON.stringify(driver)}`),
      );
    return this.writeSysfs(`bus/pci/drivers/${driver}/bind`, `${device}\n`);
  }

  setDriverOverride(device: string, driver: string | null): Promise<HostOutcome> {
    if (!isPciAddress(device) || (driver !== null && !(KNOWN_DRIVERS as readonly string[]).includes(driver)))
      return Promise.resolve(
        fail('UNSAFE', `refused: driver_override ${JSON.stringify(driver)} for ${JSON.stringify(device)}`),
      );
    return this.writeSysfs(`bus/pci/devices/${device}/driver_override`, `${driver ?? ''}\n`);
  }

  probeDriver(device: string): Promise<HostOutcome> {
    if (!isPciAddress(device))
      return Promise.resolve(fail('UNSAFE', `refused: probe ${JSON.stringify(device)}`));
    return this.writeSysfs('bus/pci/drivers_probe', `${device}\n`);
  }

  async setVfGuids(
    pfNetdev: string,
    vf: number,
    guids: { readonly nodeGuid: string; readonly portGuid: string },
  ): Promise<HostOutcome> {
    if (
      !isNetdevName(pfNetdev) ||
      !Number.isInteger(vf) ||
      vf < 0 ||
      !isGuid(guids.nodeGuid) ||
      !isGuid(guids.portGuid)
    )
      return fail('UNSAFE', `refused: GUIDs for VF ${String(vf)} of ${JSON.stringify(pfNetdev)}`);
    for (const argv of [
      ipArgv.setVfNodeGuid(pfNetdev, vf, guids.nodeGuid),
      ipArgv.setVfPortGuid(pfNetdev, vf, guids.portGuid),
    ]) {
      const r = await this.executor.run('ip', argv);
      if (r.exitCode !== 0) return failureFromCommand(`ip ${argv.join(' ')}`, r);
    }
    return ok;
  }

  async setVfMac(pfNetdev: string, vf: number, mac: string): Promise<HostOutcome> {
    if (!isNetdevName(pfNetdev) || !Number.isInteger(vf) || vf < 0 || !isMac(mac))
      return fail('UNSAFE', `refused: MAC for VF ${String(vf)} of ${JSON.stringify(pfNetdev)}`);
    const argv = ipArgv.setVfMac(pfNetdev, vf, mac);
    const r = await this.executor.run('ip', argv);
    return r.exitCode === 0 ? ok : failureFromCommand(`ip ${argv.join(' ')}`, r);
  }

  async setMtu(netdev: string, mtu: number): Promise<HostOutcome> {
    if (!isNetdevName(netdev) || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      return fail('UNSAFE', `refused: MTU ${String(mtu)} for ${JSON.stringify(netdev)}`);
    const argv = ipArgv.setMtu(netdev, mtu);
    const r = await this.executor.run('ip', argv);
    return r.exitCode === 0 ? ok : failureFromCommand(`ip ${argv.join(' ')}`, r);
  }

  async vfAdminConfig(pfNetdev: string): Promise<{ ok: true; vfs: readonly VfAdminConfig[] } | HostFailure> {
    if (!isNetdevName(pfNetdev))
      return fail('UNSAFE', `refused: ${JSON.stringify(pfNetdev)} is not an interface name`);
    const argv = ipArgv.show(pfNetdev);
    const r = await this.executor.run('ip', argv);
    if (r.exitCode !== 0) return failureFromCommand(`ip ${argv.join(' ')}`, r);
    const vfs = parseVfInfoList(r.stdout);
    return vfs === undefined ? fail('ECMD', `ip ${argv.join(' ')}: unexpected output`) : { ok: true, vfs };
  }

  async eswitchMode(pf: string): Promise<EswitchMode> {
    if (!isPciAddress(pf)) return 'legacy';
    const r = await this.executor.run('devlink', devlinkArgv.eswitchShow(pf));
    return r.exitCode === 0 ? parseEswitchMode(r.stdout, pf) : 'legacy';
  }
}
