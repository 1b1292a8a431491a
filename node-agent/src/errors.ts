/**
 * The node agent's stable codes. Provisioning results carry them in `code`; the failure metric is
 * labelled with them; the README's table lists them (a test keeps both in sync).
 */
export const AGENT_CODES = {
  OK: 'The PF has at least the requested number of ready VFs.',
  INVALID_REQUEST:
    'The request is not a valid ProvisionRequest (field named in the message); nothing was written.',
  WRONG_NODE: 'The request names another node; nothing was written.',
  UNKNOWN_PF: 'No ConnectX PF with that PCI address was discovered on this node; nothing was written.',
  SRIOV_DISABLED:
    'The PF has SR-IOV disabled in firmware (no sriov_* files); the agent never changes firmware.',
  EXCEEDS_TOTALVFS: 'More VFs were asked for than sriov_totalvfs (the firmware limit); nothing was written.',
  EXCEEDS_MAX_VFS: 'More VFs were asked for than the policy maximum per PF; nothing was written.',
  MISSING_POD_UID: 'A reservation request without a (well-formed) podUid; nothing was written.',
  PF_NOT_MANAGED:
    'No RdmaNodePolicy that selects this node governs the PF (or the policies are not read yet), so the agent never writes it; nothing was written.',
  PF_BUSY: 'A VF of the PF is in use, so sriov_numvfs cannot change; nothing was written.',
  PF_HELD:
    "Reservations other than the requesting pod's name the PF, so it cannot be resized; nothing was written.",
  PF_CLAIMED: "Another owner holds the PF's resize claim; nothing was written.",
  RESERVATION_GONE:
    'The requesting pod has no reservation on this PF any more; its claim was released, nothing written.',
  NO_PF_NETDEV: 'The PF has no netdev, so its VFs cannot be given GUIDs/MACs; nothing was written.',
  UNSUPPORTED_ESWITCH_MODE:
    "The PF's eswitch is in switchdev mode, which the agent does not manage; nothing was written.",
  HOST_WRITE_FAILED: 'The kernel refused a write (errno in the message); the PF was left consistent.',
  VFS_DID_NOT_APPEAR:
    'VFs did not appear (or did not bind) in time after enabling; the PF was left consistent.',
  CONFIGURE_FAILED: 'A VF could not be given its GUID/MAC or rebound; it is reported not ready.',
  GUID_POOL_EXHAUSTED: 'The cluster-wide GUID pool has no identity left.',
  STORE_UNAVAILABLE: 'Redis could not be reached before a host write, so nothing was written.',
  UNSAFE_WRITE: "The agent's guard refused a host write (bug or unsafe state); nothing was written.",
} as const;

export type AgentCode = keyof typeof AGENT_CODES;

/** Configuration errors (every bad field listed). */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}
