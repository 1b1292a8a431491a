/**
 * The node's provisioning requests and answers (Redis streams in production). Delivery is at
 * least once: an entry stays pending until acknowledged, and a restarted agent gets its pending
 * entries again first. Requests are idempotent by their id (the agent remembers its answers).
 */
import type { ProvisionResult } from '@rdmasched/contracts';

export interface QueueEntry {
  /** Stream entry id, for ack. */
  readonly entryId: string;
  /** The `request` field as sent (untrusted); undefined when the entry has none. */
  readonly raw: string | undefined;
}

export interface ProvisionQueue {
  /** Entries to handle: this consumer's unacknowledged ones first, then new ones (waits up to blockMs). */
  next(blockMs: number): Promise<readonly QueueEntry[]>;
  ack(entryId: string): Promise<void>;
  answer(result: ProvisionResult): Promise<void>;
  /** Stops a pending `next` (it resolves with []). */
  close(): Promise<void>;
}
