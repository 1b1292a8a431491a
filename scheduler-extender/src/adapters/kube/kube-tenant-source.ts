/**
 * Feeds a TenantCatalog from the API: informers on `rdmatenants.rdmasched.io` and on namespaces
 * (for namespaceSelector labels). The catalog is synced once both were listed; relists after a
 * 410 replace everything, other watch errors restart the informer after a pause.
 * RBAC: get/list/watch rdmatenants and namespaces.
 */
import {
  CoreV1Api,
  CustomObjectsApi,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1Namespace,
} from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, RDMA_TENANT, collectionPath } from '@rdmasched/crds';
import type { Logger } from 'pino';
import type { TenantCatalog } from '../../core/tenant-catalog.js';

export interface KubeTenantSourceOptions {
  readonly kubeConfig: KubeConfig;
  readonly catalog: TenantCatalog;
  readonly logger: Logger;
  readonly restartDelayMs?: number;
}

export class KubeTenantSource {
  private readonly tenants: ListWatch<KubernetesObject>;
  private readonly namespaces: ListWatch<V1Namespace>;
  private tenantsListed = false;
  private namespacesListed = false;
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly warned = new Set<string>();

  constructor(private readonly o: KubeTenantSourceOptions) {
    const custom = o.kubeConfig.makeApiClient(CustomObjectsApi);
    const core = o.kubeConfig.makeApiClient(CoreV1Api);
    this.tenants = new ListWatch<KubernetesObject>(
      collectionPath(RDMA_TENANT),
      new Watch(o.kubeConfig),
      async () => {
        const list = (await custom.listClusterCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          plural: RDMA_TENANT.plural,
        })) as KubernetesListObject<KubernetesObject>;
        this.tenantsListed = true;
        return list;
      },
      false,
    );
    this.namespaces = new ListWatch<V1Namespace>(
      '/api/v1/namespaces',
      new Watch(o.kubeConfig),
      async () => {
        const list = await core.listNamespace();
        this.namespacesListed = true;
        return list;
      },
      false,
    );
    const upsertTenant = (obj: KubernetesObject) => {
      const problem = o.catalog.upsertTenant(obj);
      const key = `${obj.metadata?.name ?? ''}@${obj.metadata?.resourceVersion ?? ''}`;
      if (problem !== undefined && !this.warned.has(key)) {
        this.warned.add(key);
        o.logger.warn(
          { tenant: obj.metadata?.name, errors: problem },
          'RdmaTenant ignored: it fails its schema',
        );
      }
      this.maybeSynced();
    };
    this.tenants.on('add', upsertTenant);
    this.tenants.on('update', upsertTenant);
    this.tenants.on('delete', (obj) => o.catalog.deleteTenant(obj.metadata?.name ?? ''));
    const upsertNs = (ns: V1Namespace) => {
      o.catalog.setNamespace(ns.metadata?.name ?? '', { ...(ns.metadata?.labels ?? {}) });
      this.maybeSynced();
    };
    this.namespaces.on('add', upsertNs);
    this.namespaces.on('update', upsertNs);
    this.namespaces.on('delete', (ns) => o.catalog.deleteNamespace(ns.metadata?.name ?? ''));
    for (const [name, informer] of [
      ['rdmatenants', this.tenants],
      ['namespaces', this.namespaces],
    ] as const) {
      informer.on('error', (err: unknown) => {
        o.logger.warn(
          { informer: name, err: err instanceof Error ? err.message : String(err) },
          'Kubernetes watch failed; restarting it',
        );
        this.restart(informer);
      });
    }
  }

  private maybeSynced(): void {
    if (!this.o.catalog.synced && this.tenantsListed && this.namespacesListed) this.o.catalog.markSynced();
  }

  async start(): Promise<void> {
    await Promise.all(
      [this.tenants, this.namespaces].map(async (informer) => {
        try {
          await informer.start();
        } catch (err: unknown) {
          this.o.logger.warn(
            { err: err instanceof Error ? err.message : String(err) },
            'cannot list RdmaTenants or namespaces yet; retrying',
          );
          this.restart(informer);
        }
      }),
    );
    this.maybeSynced();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.all([this.tenants.stop(), this.namespaces.stop()]);
  }

  private restart(informer: ListWatch<KubernetesObject> | ListWatch<V1Namespace>): void {
    if (this.stopped) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.stopped) return;
      informer.start().then(
        () => this.maybeSynced(),
        () => this.restart(informer),
      );
    }, this.o.restartDelayMs ?? 2000);
    t.unref();
    this.timers.add(t);
  }
}
