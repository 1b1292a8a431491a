/**
 * Which devices the kubelet has assigned to containers now. The kubelet calls Allocate but never
 * tells a plugin that a container ended; its PodResources API (`List`) is where releases show.
 */
import { credentials, Client, Metadata, type ServiceError } from '@grpc/grpc-js';
import { DEFAULT_POD_RESOURCES_SOCKET, loadPodResourcesApi, type ListPodResourcesResponse } from './api.js';

export interface KubeletAssignment {
  readonly resource: string;
  readonly deviceId: string;
  readonly namespace: string;
  readonly pod: string;
  readonly container: string;
}

export interface AllocatedDevicesSource {
  /**
   * Every device assignment of running (and admitted) pods, all resources. Rejects when the
   * kubelet cannot be asked; callers then change nothing (an unanswered question never releases).
   */
  list(): Promise<readonly KubeletAssignment[]>;
  close?(): void;
}

/** Flattens a PodResources `List` answer. */
export function assignmentsFromPodResources(r: ListPodResourcesResponse): KubeletAssignment[] {
  const out: KubeletAssignment[] = [];
  for (const pod of r.pod_resources)
    for (const c of pod.containers)
      for (const d of c.devices)
        for (const id of d.device_ids)
          out.push({
            resource: d.resource_name,
            deviceId: id,
            namespace: pod.namespace,
            pod: pod.name,
            container: c.name,
          });
  return out;
}

export interface PodResourcesClientOptions {
  /** Default `/var/lib/kubelet/pod-resources/kubelet.sock`. */
  readonly socketPath?: string;
  /** Deadline of one List call (default 5 s). */
  readonly timeoutMs?: number;
}

/** A read-only client of the kubelet's PodResources API v1 (`/v1.PodResourcesLister/List`). */
export class PodResourcesClient implements AllocatedDevicesSource {
  readonly socketPath: string;
  readonly #timeoutMs: number;
  #client: Client | undefined;

  constructor(opts: PodResourcesClientOptions = {}) {
    this.socketPath = opts.socketPath ?? DEFAULT_POD_RESOURCES_SOCKET;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
  }

  async list(): Promise<readonly KubeletAssignment[]> {
    const api = loadPodResourcesApi();
    this.#client ??= new Client(`unix:${this.socketPath}`, credentials.createInsecure());
    const client = this.#client;
    const m = api.list;
    const res = await new Promise<ListPodResourcesResponse>((resolve, reject) => {
      client.makeUnaryRequest(
        m.path,
        m.requestSerialize,
        m.responseDeserialize,
        {},
        new Metadata(),
        { deadline: Date.now() + this.#timeoutMs },
        (err: ServiceError | null, value?: ListPodResourcesResponse) => {
          if (err !== null) reject(new Error(`PodResources List on ${this.socketPath}: ${err.message}`));
          else if (value === undefined)
            reject(new Error(`PodResources List on ${this.socketPath}: no answer`));
          else resolve(value);
        },
      );
    });
    return assignmentsFromPodResources(res);
  }

  close(): void {
    this.#client?.close();
    this.#client = undefined;
  }
}

/** Set by hand (tests, the simulation). */
export class InMemoryAllocatedDevices implements AllocatedDevicesSource {
  #items: KubeletAssignment[] = [];
  #failWith: Error | undefined;

  list(): Promise<readonly KubeletAssignment[]> {
    return this.#failWith !== undefined ? Promise.reject(this.#failWith) : Promise.resolve([...this.#items]);
  }

  set(items: readonly KubeletAssignment[]): void {
    this.#items = [...items];
  }

  add(item: KubeletAssignment): void {
    this.#items.push(item);
  }

  /** Removes every assignment of a pod (it ended). */
  removePod(namespace: string, pod: string): void {
    this.#items = this.#items.filter((i) => i.namespace !== namespace || i.pod !== pod);
  }

  /** Makes `list` fail (the kubelet is unreachable) until called with undefined. */
  failWith(err: Error | undefined): void {
    this.#failWith = err;
  }
}
