/**
 * The agent's Prometheus metrics, on an injected prom-client Registry (never the global one).
 * Labels are bounded: PF addresses (a handful per node), VF states, link types, result codes from
 * errors.ts, publish kinds.
 */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { VfState } from '@rdmasched/contracts';
import { AGENT_CODES, type AgentCode } from './errors.js';

export interface PortCounterSample {
  readonly pf: string;
  readonly device: string;
  readonly linkType: string;
  /** Bytes (sysfs data counters already multiplied by 4). */
  readonly xmitBytes: number;
  readonly rcvBytes: number;
  readonly xmitPackets: number;
  readonly rcvPackets: number;
}

export interface MetricSources {
  /** Port counters read from sysfs at scrape time. */
  readonly portCounters: () => Promise<readonly PortCounterSample[]>;
  /** VFs per PF by state (free/reserved/in-use/unconfigured). */
  readonly vfStates: () => ReadonlyMap<string, Readonly<Record<VfState | 'unconfigured', number>>>;
  /** Unix ms of the last successful report publish; undefined before the first. */
  readonly lastPublishMs: () => number | undefined;
  readonly nowMs: () => number;
}

export class AgentMetrics {
  readonly provisionDuration: Histogram<'reason' | 'status'>;
  readonly provisionFailures: Counter<'code'>;
  readonly publishes: Counter<'kind'>;
  readonly publishErrors: Counter<'kind'>;
  readonly discoveryDuration: Histogram;
  readonly guardRefusals: Counter;
  readonly hostWrites: Counter<'result'>;
  #sources: MetricSources | undefined;

  constructor(readonly registry: Registry) {
    const sources = () => this.#sources;
    const portCounter = (name: string, help: string, pick: (s: PortCounterSample) => number) =>
      new Counter({
        name,
        help,
        labelNames: ['pf', 'device', 'link_type'] as const,
        registers: [registry],
        // Read at scrape time; the kernel's counters are the truth, so the metric mirrors them.
        async collect() {
          const samples = (await sources()?.portCounters()) ?? [];
          this.reset();
          for (const s of samples) this.inc({ pf: s.pf, device: s.device, link_type: s.linkType }, pick(s));
        },
      });
    portCounter(
      'rdmasched_agent_port_transmit_bytes_total',
      'Bytes sent by the PF port (sysfs port_xmit_data x 4).',
      (s) => s.xmitBytes,
    );
    portCounter(
      'rdmasched_agent_port_receive_bytes_total',
      'Bytes received by the PF port (sysfs port_rcv_data x 4).',
      (s) => s.rcvBytes,
    );
    portCounter(
      'rdmasched_agent_port_transmit_packets_total',
      'Packets sent by the PF port (sysfs port_xmit_packets).',
      (s) => s.xmitPackets,
    );
    portCounter(
      'rdmasched_agent_port_receive_packets_total',
      'Packets received by the PF port (sysfs port_rcv_packets).',
      (s) => s.rcvPackets,
    );
    const vfs = new Gauge({
      name: 'rdmasched_agent_vfs',
      help: 'VFs per PF by state: free (ready, nobody holds it), reserved, in-use, unconfigured.',
      labelNames: ['pf', 'state'] as const,
      registers: [registry],
      collect() {
        this.reset();
        for (const [pf, counts] of sources()?.vfStates() ?? new Map<string, Record<string, number>>())
          for (const [state, n] of Object.entries(counts)) this.set({ pf, state }, n);
      },
    });
    void vfs;
    const age = new Gauge({
      name: 'rdmasched_agent_report_age_seconds',
      help: 'Seconds since the node report was last published successfully (NaN before the first).',
      registers: [registry],
      collect() {
        const src = sources();
        const last = src?.lastPublishMs();
        this.set(last === undefined || src === undefined ? NaN : (src.nowMs() - last) / 1000);
      },
    });
    void age;
    this.provisionDuration = new Histogram({
      name: 'rdmasched_agent_provision_duration_seconds',
      help: 'Time to answer a provisioning request or warm-pool action, by reason and status.',
      labelNames: ['reason', 'status'] as const,
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60, 120],
      registers: [registry],
    });
    this.provisionFailures = new Counter({
      name: 'rdmasched_agent_provision_failures_total',
      help: 'Provisioning requests answered rejected or failed, by code (see the README).',
      labelNames: ['code'] as const,
      registers: [registry],
    });
    this.publishes = new Counter({
      name: 'rdmasched_agent_report_publishes_total',
      help: 'Successful publishes to Redis, by kind (report, heartbeat).',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    this.publishErrors = new Counter({
      name: 'rdmasched_agent_report_publish_errors_total',
      help: 'Publishes that failed (Redis unreachable), by kind; the agent republishes when Redis is back.',
      labelNames: ['kind'] as const,
      registers: [registry],
    });
    // Every known series starts at 0, so increase() sees the first failure too (a counter that
    // appears at 1 has no earlier sample to rise from).
    for (const code of Object.keys(AGENT_CODES) as AgentCode[])
      if (code !== 'OK') this.provisionFailures.inc({ code }, 0);
    for (const kind of ['report', 'heartbeat']) this.publishes.inc({ kind }, 0);
    for (const kind of ['report', 'heartbeat', 'invalid']) this.publishErrors.inc({ kind }, 0);
    this.discoveryDuration = new Histogram({
      name: 'rdmasched_agent_discovery_duration_seconds',
      help: 'Time of one discovery pass over sysfs.',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    });
    this.guardRefusals = new Counter({
      name: 'rdmasched_agent_guard_refusals_total',
      help: 'Host writes the safety guard refused (should stay 0).',
      registers: [registry],
    });
    this.hostWrites = new Counter({
      name: 'rdmasched_agent_host_writes_total',
      help: 'Host changes (sysfs writes and ip commands) by result (ok, error).',
      labelNames: ['result'] as const,
      registers: [registry],
    });
  }

  /** Connects the scrape-time sources (the agent calls this once it is wired). */
  attach(sources: MetricSources): void {
    this.#sources = sources;
  }

  failure(code: AgentCode): void {
    this.provisionFailures.inc({ code });
  }
}
