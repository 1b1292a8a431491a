/**
 * What the agent's services share: ports, the guarded host, and the few pieces of in-process state
 * (claims held, PFs being resized, the durable notes).
 */
import type { Logger } from 'pino';
import type { ProvisionResult } from '@rdmasched/contracts';
import {
  emptyAgentState,
  findResult,
  rememberResult,
  type AgentState,
  type ResizeOp,
  type ResizeStep,
} from '../core/agent-state.js';
import type { AgentMetrics } from '../metrics.js';
import type { AgentStateStore } from '../ports/agent-state-store.js';
import type { Clock } from '../ports/clock.js';
import type { GuidPool } from '../ports/guid-pool.js';
import type { HostControl } from '../ports/host-control.js';
import type { AgentLedger } from '../ports/ledger.js';
import type { SysfsReader } from '../ports/sysfs-reader.js';
import type { VfUsage } from '../ports/vf-usage.js';
import type { HostView } from './host-view.js';
import type { NodeSettings } from './node-settings.js';
import type { VfConfigurator } from './vf-configurator.js';

export interface AgentSettings {
  /** Configured maximum VFs per PF (0: sriov_totalvfs); a governing RdmaNodePolicy overrides it. */
  readonly maxVfsPerPf: number;
  /** Driver VFs are bound to. */
  readonly vfDriver: string;
  /** How long to wait for enabled VFs to appear and bind (the operator waits 120 s). */
  readonly vfWaitTimeoutMs: number;
  /** Poll interval while waiting for VFs. */
  readonly vfPollIntervalMs: number;
}

export interface AgentContext {
  readonly nodeName: string;
  readonly reader: SysfsReader;
  /** The guarded host: every change goes through it. */
  readonly host: HostControl;
  readonly usage: VfUsage;
  readonly ledger: AgentLedger;
  readonly pool: GuidPool;
  readonly view: HostView;
  readonly configurator: VfConfigurator;
  readonly notes: AgentNotes;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly settings: AgentSettings;
  /** The provisioning settings in force per PF (configuration or RdmaNodePolicy). */
  readonly limits: NodeSettings;
  /** PFs whose resize claim this agent holds. */
  readonly claimed: Set<string>;
  /** PFs being resized now (reported as `resizing`). */
  readonly resizing: Set<string>;
  /** The last error of a host change per PF (`CODE: message`), for the policy status; cleared on success. */
  readonly pfErrors: Map<string, string>;
  /** `<vf>/<netdev>/<mtu>` the kernel refused: not tried again. */
  readonly mtuRefused: Set<string>;
}

/** The durable notes, saved before each host write (docs/adr/0003 §5). */
export class AgentNotes {
  #state: AgentState = emptyAgentState();

  constructor(
    private readonly store: AgentStateStore,
    private readonly nodeName: string,
  ) {}

  get state(): AgentState {
    return this.#state;
  }

  /** Loads the stored notes; malformed ones are reported and replaced by empty notes. */
  async load(): Promise<{ malformed?: string }> {
    const s = await this.store.load(this.nodeName);
    if (s === undefined) {
      this.#state = emptyAgentState();
      return {};
    }
    if ('malformed' in s) {
      this.#state = emptyAgentState();
      return { malformed: s.malformed };
    }
    this.#state = s;
    return {};
  }

  async #save(next: AgentState): Promise<void> {
    await this.store.save(this.nodeName, next);
    this.#state = next;
  }

  setOp(op: ResizeOp): Promise<void> {
    return this.#save({ ...this.#state, op });
  }

  async setStep(step: ResizeStep): Promise<void> {
    if (this.#state.op !== null) await this.#save({ ...this.#state, op: { ...this.#state.op, step } });
  }

  clearOp(): Promise<void> {
    return this.#state.op === null ? Promise.resolve() : this.#save({ ...this.#state, op: null });
  }

  remember(result: ProvisionResult): Promise<void> {
    return this.#save(rememberResult(this.#state, result));
  }

  answered(id: string): ProvisionResult | undefined {
    return findResult(this.#state, id);
  }
}
