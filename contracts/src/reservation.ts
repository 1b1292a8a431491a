/**
 * The reservation ledger's records. The extender writes them at bind (atomically, with the
 * tenant quota and node capacity check), the node agent reads them to know which PFs are held and
 * so must not be resized, and the device plugin reads them to prefer the reserved PF's VFs.
 *
 * Reservations count VFs per PF, not individual VFs: which VF of the PF a container gets is the
 * kubelet's choice at admission (the device plugin steers it with GetPreferredAllocation).
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { LinkTypeSchema } from './node-report.js';
import { NODE_NAME_PATTERN, PCI_ADDRESS_PATTERN } from './pci.js';

export const ReservedPfSchema = Type.Object({
  pfPciAddress: Type.String({ pattern: PCI_ADDRESS_PATTERN }),
  linkType: LinkTypeSchema,
  count: Type.Integer({ minimum: 1, maximum: 4096 }),
});
export type ReservedPf = Static<typeof ReservedPfSchema>;

export const ReservationSchema = Type.Object({
  podUid: Type.String({ minLength: 1, maxLength: 128 }),
  namespace: Type.String({ maxLength: 253 }),
  podName: Type.String({ maxLength: 253 }),
  /** Owning RdmaTenant, or '' when the namespace belongs to no tenant. */
  tenant: Type.String({ maxLength: 253 }),
  node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
  pfs: Type.Array(ReservedPfSchema, { minItems: 1, maxItems: 64 }),
  /** GPUs the extender aligned the VFs with (informational). */
  gpus: Type.Array(Type.String({ pattern: PCI_ADDRESS_PATTERN }), { maxItems: 64 }),
  /** pending: taken at bind, Binding not yet created; bound: the Binding exists. */
  state: Type.Union([Type.Literal('pending'), Type.Literal('bound')]),
  createdAtMs: Type.Integer({ minimum: 0 }),
  /** A pending reservation not bound by then is released by reconcile. */
  expiresAtMs: Type.Integer({ minimum: 0 }),
});
export type Reservation = Static<typeof ReservationSchema>;

const check = TypeCompiler.Compile(ReservationSchema);

/** Parses a ledger record; undefined when malformed (callers log and treat it as absent). */
export function parseReservation(json: string): Reservation | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return check.Check(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What the agent writes into the ledger's `node:<name>:capacity` hash for each PF, with every
 * report, so the bind script can check capacity without reading the (large) report.
 */
export const PfCapacitySchema = Type.Object({
  linkType: LinkTypeSchema,
  /** sriov_numvfs now. */
  numVfs: Type.Integer({ minimum: 0 }),
  /** Most VFs the agent will enable (0 when SR-IOV is disabled in firmware). */
  maxVfs: Type.Integer({ minimum: 0 }),
  /** Configured (ready) VFs. */
  configured: Type.Integer({ minimum: 0 }),
  /**
   * In-use VFs of this PF whose pod holds no reservation on this node: the VF's report `podUid`
   * is null/absent (a container not scheduled by rdmasched, or one the agent could not name yet)
   * or names a pod with no ledger reservation on this node. VFs of pods with a reservation on
   * the node are never counted here, whichever PF their reservation names, so reserved + foreign
   * never counts one VF twice. Readers: held VFs of a PF = ledger reserved + foreignInUse.
   */
  foreignInUse: Type.Integer({ minimum: 0 }),
  /** The agent is resizing the PF: it takes no new reservation until done. */
  resizing: Type.Boolean(),
  /** Port is ACTIVE. */
  portActive: Type.Boolean(),
  /** Report generation this summary comes from. */
  generation: Type.Integer({ minimum: 0 }),
});
export type PfCapacity = Static<typeof PfCapacitySchema>;

/**
 * Entries of the ledger's event stream (`RedisKeys.ledgerEvents`, field `event`), appended in the
 * same Lua script as the change they describe, so every extender replica can mirror the ledger in
 * memory (filter and prioritize never call Redis) and the agent can follow claims.
 * A reader that finds its last id trimmed away reloads the whole ledger.
 */
export const LedgerEventSchema = Type.Union([
  /** A reservation was taken (bind). `claims` lists PFs whose resize claim it took. */
  Type.Object({
    type: Type.Literal('reserved'),
    podUid: Type.String({ maxLength: 128 }),
    node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
    tenant: Type.String({ maxLength: 253 }),
    pfs: Type.Array(ReservedPfSchema, { maxItems: 64 }),
    claims: Type.Array(Type.String({ pattern: PCI_ADDRESS_PATTERN }), { maxItems: 64 }),
    /**
     * GPUs the reservation aligned its VFs with (Reservation.gpus): mirrors count them as taken
     * on the node until the pod is admitted (its VFs show in use), since a node report marks a GPU
     * allocated only after the kubelet started the pod. Absent from older writers: none.
     */
    gpus: Type.Optional(Type.Array(Type.String({ pattern: PCI_ADDRESS_PATTERN }), { maxItems: 64 })),
    atMs: Type.Integer({ minimum: 0 }),
  }),
  /** The reservation's Binding was created (pending -> bound). */
  Type.Object({
    type: Type.Literal('bound'),
    podUid: Type.String({ maxLength: 128 }),
    node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
    atMs: Type.Integer({ minimum: 0 }),
  }),
  /** The reservation was released (pod ended, bind failed, expired, reconciled). */
  Type.Object({
    type: Type.Literal('released'),
    podUid: Type.String({ maxLength: 128 }),
    node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
    tenant: Type.String({ maxLength: 253 }),
    pfs: Type.Array(ReservedPfSchema, { maxItems: 64 }),
    atMs: Type.Integer({ minimum: 0 }),
  }),
  /** A PF's resize claim was taken (`owner` = pod UID or `agent`). */
  Type.Object({
    type: Type.Literal('claimed'),
    node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
    pf: Type.String({ pattern: PCI_ADDRESS_PATTERN }),
    owner: Type.String({ maxLength: 128 }),
    atMs: Type.Integer({ minimum: 0 }),
  }),
  /** A PF's resize claim was released by its owner. */
  Type.Object({
    type: Type.Literal('claim-released'),
    node: Type.String({ pattern: NODE_NAME_PATTERN, maxLength: 253 }),
    pf: Type.String({ pattern: PCI_ADDRESS_PATTERN }),
    owner: Type.String({ maxLength: 128 }),
    atMs: Type.Integer({ minimum: 0 }),
  }),
]);
export type LedgerEvent = Static<typeof LedgerEventSchema>;

const ledgerEventCheck = TypeCompiler.Compile(LedgerEventSchema);

/** Parses one ledger event; undefined when malformed (readers skip it and log). */
export function parseLedgerEvent(json: string): LedgerEvent | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return ledgerEventCheck.Check(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
