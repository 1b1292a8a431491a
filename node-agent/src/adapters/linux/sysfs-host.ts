/**
 * The Linux host adapter: sysfs writes under a configurable root (default `/sys`, `/host/sys` in
 * the DaemonSet) and `ip`/`devlink` through a CommandExecutor. Every write is checked by the path
 * guard first (path-guard.ts); kernel errors come back as errno data.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { isGuid, isMac, isNetdevName, isPciAddress } from '@rdmasched/contracts';
import type { CommandExecutor } from '../../ports/command-executor.js';
import {
  failureFromCommand,
  type EswitchMode,
  type HostControl,
  type HostErrno,
  type HostFailure,
  type HostOutcome,
  type VfAdminConfig,
} from '../../ports/host-control.js';
import { devlinkArgv, ipArgv, parseEswitchMode, parseVfInfoList } from '../iproute2.js';
import { relativeWritePath, resolveUnderRoot, type WriteTarget } from './path-guard.js';

export interface SysfsHostOptions {
  /** The sysfs root, e.g. `/sys` or `/host/sys`. */
  readonly sysfsRoot: string;
  readonly executor: CommandExecutor;
  /** Paths of the tools (default `ip`, `devlink` from PATH). */
  readonly ipPath?: string;
  readonly devlinkPath?: string;
  /** Bound on one command (default 30 s). */
  readonly commandTimeoutMs?: number;
}

const KNOWN_ERRNOS: ReadonlySet<string> = new Set([
  'EINVAL',
  'ERANGE',
  'ENOENT',
  'EBUSY',
  'ENODEV',
  'EACCES',
  'EPERM',
  'EOPNOTSUPP',
  'ENOMEM',
  'ENOSPC',
  'EIO',
]);

export class SysfsHost implements HostControl {
  constructor(private readonly opts: SysfsHostOptions) {}

  /**
   * Writes `value` to a guarded target like `echo value > file`: O_WRONLY|O_TRUNC, never O_CREAT
   * (sysfs attributes exist; a missing one is ENOENT), one write call.
   */
  async #write(target: WriteTarget, value: string): Promise<HostOutcome> {
    const rel = relativeWritePath(target);
    if (!rel.ok) return { ok: false, errno: 'UNSAFE', message: `refused: ${rel.reason}` };
    const abs = await resolveUnderRoot(this.opts.sysfsRoot, rel.path);
    if (!abs.ok) return { ok: false, errno: 'UNSAFE', message: `refused: ${abs.reason}` };
    try {
      const fh = await open(abs.path, constants.O_WRONLY | constants.O_TRUNC);
      try {
        await fh.write(value);
      } finally {
        await fh.close();
      }
      return { ok: true };
    } catch (err: unknown) {
      const code = (err as NodeJS.ErrnoException).code ?? 'EIO';
      const errno: HostErrno = KNOWN_ERRNOS.has(code) ? (code as HostErrno) : 'EIO';
      return { ok: false, errno, message: `write ${abs.path}: ${(err as Error).message}` };
    }
  }

  setNumVfs(pf: string, numVfs: number): Promise<HostOutcome> {
    if (!Number.isInteger(numVfs) || numVfs < 0 || numVfs > 65535)
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: ${String(numVfs)} is not a VF count`,
      });
    return this.#write({ kind: 'sriov_numvfs', device: pf }, `${numVfs}\n`);
  }

  unbindDriver(device: string, driver: string): Promise<HostOutcome> {
    if (!isPciAddress(device))
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: ${JSON.stringify(device)} is not a PCI address`,
      });
    return this.#write({ kind: 'unbind', driver }, `${device}\n`);
  }

  bindDriver(device: string, driver: string): Promise<HostOutcome> {
    if (!isPciAddress(device))
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: ${JSON.stringify(device)} is not a PCI address`,
      });
    return this.#write({ kind: 'bind', driver }, `${device}\n`);
  }

  setDriverOverride(device: string, driver: string | null): Promise<HostOutcome> {
    if (driver !== null && !/^[A-Za-z0-9_-]{1,64}$/.test(driver))
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: ${JSON.stringify(driver)} is not a driver name`,
      });
    return this.#write({ kind: 'driver_override', device }, `${driver ?? ''}\n`);
  }

  probeDriver(device: string): Promise<HostOutcome> {
    if (!isPciAddress(device))
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: ${JSON.stringify(device)} is not a PCI address`,
      });
    return this.#write({ kind: 'drivers_probe' }, `${device}\n`);
  }

  async #ip(argv: string[]): Promise<HostOutcome> {
    const r = await this.opts.executor.run(this.opts.ipPath ?? 'ip', argv, {
      timeoutMs: this.opts.commandTimeoutMs ?? 30_000,
    });
    return r.exitCode === 0 ? { ok: true } : failureFromCommand(`ip ${argv.join(' ')}`, r);
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
      return {
        ok: false,
        errno: 'UNSAFE',
        message: `refused: GUIDs for VF ${String(vf)} of ${JSON.stringify(pfNetdev)}`,
      };
    const node = await this.#ip(ipArgv.setVfNodeGuid(pfNetdev, vf, guids.nodeGuid));
    return node.ok ? this.#ip(ipArgv.setVfPortGuid(pfNetdev, vf, guids.portGuid)) : node;
  }

  setVfMac(pfNetdev: string, vf: number, mac: string): Promise<HostOutcome> {
    if (!isNetdevName(pfNetdev) || !Number.isInteger(vf) || vf < 0 || !isMac(mac))
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: MAC for VF ${String(vf)} of ${JSON.stringify(pfNetdev)}`,
      });
    return this.#ip(ipArgv.setVfMac(pfNetdev, vf, mac));
  }

  setMtu(netdev: string, mtu: number): Promise<HostOutcome> {
    if (!isNetdevName(netdev) || !Number.isInteger(mtu) || mtu < 68 || mtu > 65535)
      return Promise.resolve({
        ok: false,
        errno: 'UNSAFE',
        message: `refused: MTU ${String(mtu)} for ${JSON.stringify(netdev)}`,
      });
    return this.#ip(ipArgv.setMtu(netdev, mtu));
  }

  async vfAdminConfig(pfNetdev: string): Promise<{ ok: true; vfs: readonly VfAdminConfig[] } | HostFailure> {
    if (!isNetdevName(pfNetdev))
      return {
        ok: false,
        errno: 'UNSAFE',
        message: `refused: ${JSON.stringify(pfNetdev)} is not an interface name`,
      };
    const argv = ipArgv.show(pfNetdev);
    const r = await this.opts.executor.run(this.opts.ipPath ?? 'ip', argv, {
      timeoutMs: this.opts.commandTimeoutMs ?? 30_000,
    });
    if (r.exitCode !== 0) return failureFromCommand(`ip ${argv.join(' ')}`, r);
    // `Truncated VF list` on stderr means the netlink message was cut: the list is incomplete.
    if (/Truncated VF list/.test(r.stderr))
      return { ok: false, errno: 'ECMD', message: `ip ${argv.join(' ')}: truncated VF list` };
    const vfs = parseVfInfoList(r.stdout);
    return vfs === undefined
      ? { ok: false, errno: 'ECMD', message: `ip ${argv.join(' ')}: unexpected output` }
      : { ok: true, vfs };
  }

  async eswitchMode(pf: string): Promise<EswitchMode> {
    if (!isPciAddress(pf)) return 'legacy';
    const r = await this.opts.executor.run(this.opts.devlinkPath ?? 'devlink', devlinkArgv.eswitchShow(pf), {
      timeoutMs: this.opts.commandTimeoutMs ?? 30_000,
    });
    return r.exitCode === 0 ? parseEswitchMode(r.stdout, pf) : 'legacy';
  }
}
