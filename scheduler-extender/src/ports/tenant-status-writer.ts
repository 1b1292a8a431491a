/**
 * Writes an RdmaTenant's status subresource (docs/adr/0019): read-modify-write with the object's
 * resourceVersion, retried on 409 Conflict. `compute` gets the current object and returns the
 * status to write, or undefined to leave it (nothing changed).
 */
import type { RdmaTenant, RdmaTenantStatus } from '@rdmasched/crds';

export type StatusWriteResult = 'written' | 'unchanged' | 'gone';

export interface TenantStatusWriter {
  write(
    name: string,
    compute: (current: RdmaTenant) => RdmaTenantStatus | undefined,
  ): Promise<StatusWriteResult>;
}
