/**
 * Stable codes of the device plugin: why an Allocate was refused (the gRPC error message starts
 * with `[CODE]`, the failure metric's `reason` label is the code) and why a device is advertised
 * Unhealthy. The README's tables list them; a test keeps both in sync.
 */
import { status } from '@grpc/grpc-js';

export const ALLOCATE_FAILURE_CODES = {
  MALFORMED_REQUEST:
    'The request has no container requests, a container request without devices, or the same device twice.',
  UNKNOWN_DEVICE: 'A device ID is not a VF of this resource on this node (never advertised, or gone).',
  VF_NOT_READY: 'The VF is not configured (GUID/MAC, driver, RDMA device) or its PF port is not ACTIVE.',
  PF_LOCKED:
    'The PF of the VF is locked: the agent is resizing it (sriov_numvfs), so none of its VFs is handed out.',
  RDMA_DEVICE_MISSING: 'The VF has no RDMA device or no uverbs character device in sysfs at allocation time.',
} as const;
export type AllocateFailureCode = keyof typeof ALLOCATE_FAILURE_CODES;

/** The gRPC status each refusal is answered with. */
export const GRPC_STATUS_OF: Readonly<Record<AllocateFailureCode, status>> = {
  MALFORMED_REQUEST: status.INVALID_ARGUMENT,
  UNKNOWN_DEVICE: status.INVALID_ARGUMENT,
  VF_NOT_READY: status.FAILED_PRECONDITION,
  PF_LOCKED: status.FAILED_PRECONDITION,
  RDMA_DEVICE_MISSING: status.FAILED_PRECONDITION,
};

export const UNHEALTHY_REASONS = {
  NOT_CONFIGURED: 'The VF exists but is not configured yet (no GUID/MAC, no driver or no RDMA device).',
  PORT_NOT_ACTIVE: 'The port of the PF is not ACTIVE (cable, subnet manager, link down).',
  PF_LOCKED: 'The PF is locked for a resize.',
} as const;
export type UnhealthyReason = keyof typeof UNHEALTHY_REASONS;

/** A refused allocation: the code and a sentence naming the device and what is wrong. */
export class AllocateRefusal extends Error {
  constructor(
    readonly code: AllocateFailureCode,
    readonly detail: string,
  ) {
    super(`[${code}] ${detail}`);
    this.name = 'AllocateRefusal';
  }

  get grpcStatus(): status {
    return GRPC_STATUS_OF[this.code];
  }
}
