/**
 * TenantStatusWriter on client-node: GET the RdmaTenant, compute, PUT `.../status` with its
 * resourceVersion; on 409 read again and retry (bounded), on 404 the tenant is gone.
 * RBAC: get rdmatenants, update rdmatenants/status.
 */
import { ApiException, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, RDMA_TENANT, type RdmaTenant, type RdmaTenantStatus } from '@rdmasched/crds';
import type { StatusWriteResult, TenantStatusWriter } from '../../ports/tenant-status-writer.js';
import { keepAliveApiClient } from './kube-client.js';

const TENANTS = { group: API_GROUP, version: API_VERSION, plural: RDMA_TENANT.plural };
const codeOf = (err: unknown): number | undefined => (err instanceof ApiException ? err.code : undefined);

export class KubeTenantStatusWriter implements TenantStatusWriter {
  private readonly custom: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly maxAttempts = 5,
  ) {
    this.custom = keepAliveApiClient(kubeConfig, CustomObjectsApi);
  }

  async write(
    name: string,
    compute: (current: RdmaTenant) => RdmaTenantStatus | undefined,
  ): Promise<StatusWriteResult> {
    for (let attempt = 1; ; attempt++) {
      let obj: RdmaTenant;
      try {
        obj = (await this.custom.getClusterCustomObject({ ...TENANTS, name })) as RdmaTenant;
      } catch (err: unknown) {
        if (codeOf(err) === 404) return 'gone';
        throw err;
      }
      const status = compute(obj);
      if (status === undefined) return 'unchanged';
      try {
        await this.custom.replaceClusterCustomObjectStatus({ ...TENANTS, name, body: { ...obj, status } });
        return 'written';
      } catch (err: unknown) {
        const code = codeOf(err);
        if (code === 404) return 'gone';
        if (code !== 409 || attempt >= this.maxAttempts) throw err;
        await new Promise<void>((r) => setTimeout(r, 10 * attempt + Math.floor(Math.random() * 20)));
      }
    }
  }
}
