/**
 * Redis key layout. Every key carries a hash tag (`{...}`) so that each atomic operation touches
 * one slot and the same code runs on a single Redis, Sentinel or Redis Cluster:
 *
 *   {node:<name>}  one slot per node: its report, heartbeat and provisioning streams
 *   {index}        the node index and the change-event stream every extender follows
 *   {ledger}       the reservation ledger: reservations, per-PF reserved counts, promised GPUs,
 *                  node capacity summaries and tenant usage. One slot on purpose: the bind script checks tenant
 *                  quota and node capacity together, atomically (see docs/adr).
 *   {guids}        the cluster-wide InfiniBand GUID pool
 *
 * Node names are DNS-1123 subdomains, so they can never contain `{` or `}`.
 */

export interface RedisKeyOptions {
  /** Prefix of every key, default `rdmasched`. Lets several installations share one Redis. */
  readonly prefix?: string;
}

export class RedisKeys {
  readonly prefix: string;

  constructor(opts: RedisKeyOptions = {}) {
    const prefix = opts.prefix ?? 'rdmasched';
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(prefix))
      throw new Error(`invalid Redis key prefix ${JSON.stringify(prefix)}`);
    this.prefix = prefix;
  }

  // ---- per node ({node:<name>}) ----

  /** STRING: the node's latest NodeReport JSON. */
  report(node: string): string {
    return `${this.prefix}:{node:${node}}:report`;
  }
  /** STRING with PX TTL: unix ms of the agent's last heartbeat. Missing = agent gone. */
  heartbeat(node: string): string {
    return `${this.prefix}:{node:${node}}:heartbeat`;
  }
  /** STREAM: provisioning requests for the node's agent (ProvisionRequest JSON in field `request`). */
  provisionRequests(node: string): string {
    return `${this.prefix}:{node:${node}}:provision:requests`;
  }
  /** STREAM: the agent's answers (ProvisionResult JSON in field `result`). */
  provisionResults(node: string): string {
    return `${this.prefix}:{node:${node}}:provision:results`;
  }
  /** STRING: the agent's own durable notes (e.g. an in-flight resize), for crash recovery. */
  agentState(node: string): string {
    return `${this.prefix}:{node:${node}}:agent-state`;
  }

  // ---- index ({index}) ----

  /** ZSET: member = node name, score = generation of its latest report. */
  nodeIndex(): string {
    return `${this.prefix}:{index}:nodes`;
  }
  /** STREAM: NodeEvent entries (field `event`), trimmed to about EVENTS_MAXLEN entries. */
  events(): string {
    return `${this.prefix}:{index}:events`;
  }

  // ---- reservation ledger ({ledger}) ----

  /** STRING: one Reservation JSON per pod, by pod UID. */
  reservation(podUid: string): string {
    return `${this.prefix}:{ledger}:reservation:${podUid}`;
  }
  /** ZSET: member = pod UID, score = unix ms at which an unbound reservation expires. */
  reservationIndex(): string {
    return `${this.prefix}:{ledger}:reservations`;
  }
  /** HASH: field = PF PCI address, value = VFs reserved on it (all reservations of the node). */
  nodeReserved(node: string): string {
    return `${this.prefix}:{ledger}:node:${node}:reserved`;
  }
  /** HASH: field = PF PCI address, value = PfCapacity JSON, written by the agent with each report. */
  nodeCapacity(node: string): string {
    return `${this.prefix}:{ledger}:node:${node}:capacity`;
  }
  /**
   * HASH: field = PF PCI address, value = owner of the PF's resize claim: the pod UID whose
   * reservation needs the PF resized, or `agent` for the agent's own warm-pool work. While a PF
   * is claimed nobody else reserves on it; only the agent removes a claim (docs/adr/0003).
   */
  nodeResizing(node: string): string {
    return `${this.prefix}:{ledger}:node:${node}:resizing`;
  }
  /**
   * SET: UIDs of the pods that hold a reservation on the node. The bind script adds the UID and
   * the release script removes it, in the same scripts that write and delete the reservation
   * record, so the set and the records never disagree. The node agent reads it (SMEMBERS, then
   * MGET of the records) to name the pods of the VFs the kubelet reports by namespace/name only,
   * without scanning the cluster-wide ledger.
   */
  nodeReservations(node: string): string {
    return `${this.prefix}:{ledger}:node:${node}:reservations`;
  }
  /**
   * HASH: field = GPU PCI address, value = UID of the pod whose reservation promised the GPU
   * (`Reservation.gpus`). The reserve script refuses a reservation naming a GPU that another live
   * reservation of the node holds (`GPU_TAKEN`) and writes the entries with the record; the
   * release script removes the pod's own entries. An entry whose pod is not in
   * `nodeReservations` is stale (reserve overwrites it, reconcile drops it). docs/adr/0073.
   */
  nodeGpus(node: string): string {
    return `${this.prefix}:{ledger}:node:${node}:gpus`;
  }
  /** HASH: field = link type, value = VFs the tenant holds. */
  tenantUsage(tenant: string): string {
    return `${this.prefix}:{ledger}:tenant:${tenant}:usage`;
  }
  /** STREAM: LedgerEvent entries (field `event`, reservation.ts), trimmed to about EVENTS_MAXLEN, so
   * every replica's in-memory view follows the ledger. */
  ledgerEvents(): string {
    return `${this.prefix}:{ledger}:events`;
  }

  /**
   * STRING with PX TTL: the token of the extender replica that runs the periodic work (reconcile,
   * partition membership, tenant status); taken with SET NX PX, renewed and released by a script
   * that checks the token. In `{ledger}` so ledger scripts could check it too.
   */
  extenderLeader(): string {
    return `${this.prefix}:{ledger}:extender-leader`;
  }

  // ---- GUID pool ({guids}) ----

  /** HASH: field = GUID, value = owner (`<node>/<vf pci address>`). */
  guidOwners(): string {
    return `${this.prefix}:{guids}:owners`;
  }
  /** STRING counter: the next never-used offset in the GUID range. */
  guidNext(): string {
    return `${this.prefix}:{guids}:next`;
  }
  /** SET: released GUIDs, handed out again before the counter moves on. */
  guidFree(): string {
    return `${this.prefix}:{guids}:free`;
  }
  /**
   * HASH: field = VF PCI address, value = GUID: the identities one node's VFs hold (the reverse of
   * `guidOwners` for that node), so its agent releases and reconciles them without a scan.
   */
  nodeGuids(node: string): string {
    return `${this.prefix}:{guids}:node:${node}`;
  }
}

/** Approximate length the event streams are trimmed to (XADD MAXLEN ~). */
export const EVENTS_MAXLEN = 100_000;
