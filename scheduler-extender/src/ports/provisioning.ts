/**
 * Asking a node's agent for ready VFs (docs/adr/0003; contracts/src/provisioning.ts): requests on
 * the node's `provision:requests` stream, answers on its `provision:results` stream. The agent
 * answers each request id once (it remembers its answers), so sending the same id again is safe.
 */
import type { ProvisionRequest, ProvisionResult } from '@rdmasched/contracts';

export interface ProvisioningChannel {
  /**
   * Sends every request to `node`'s agent and waits until each one is answered or `deadlineMs`
   * (unix ms) passes. Returns the answers by request id; a request missing from the map was not
   * answered in time. Throws only when the requests could not be sent.
   */
  request(
    node: string,
    requests: readonly ProvisionRequest[],
    deadlineMs: number,
  ): Promise<ReadonlyMap<string, ProvisionResult>>;
}
