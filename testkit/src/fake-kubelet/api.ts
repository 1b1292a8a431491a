/**
 * The kubelet side of the device-plugin API (v1beta1) and the PodResources API (v1), loaded from
 * the `.proto` files rdmasched ships (`node-agent/proto/`). The messages are typed here from the
 * kubelet's point of view; field names are the proto's (`keepCase`).
 */
import { fileURLToPath } from 'node:url';
import type { MethodDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';

/** `node-agent/proto/`, from `testkit/src/fake-kubelet/` and `testkit/dist/fake-kubelet/` alike. */
export const DEFAULT_PROTO_DIR = fileURLToPath(new URL('../../../node-agent/proto/', import.meta.url));

export const SUPPORTED_DEVICE_PLUGIN_VERSIONS: readonly string[] = ['v1beta1'];
export const KUBELET_SOCKET = 'kubelet.sock';
/** The kubelet's checkpoint file: the one entry of the plugin directory a restart keeps. */
export const KUBELET_CHECKPOINT = 'kubelet_internal_checkpoint';

export interface DevicePluginOptions {
  pre_start_required: boolean;
  get_preferred_allocation_available: boolean;
}
export interface RegisterRequest {
  version: string;
  endpoint: string;
  resource_name: string;
  options: DevicePluginOptions | null;
}
export interface TopologyInfo {
  nodes: { ID: number }[];
}
export interface Device {
  ID: string;
  health: string;
  topology: TopologyInfo | null;
}
export interface ListAndWatchResponse {
  devices: Device[];
}
export interface PreferredAllocationRequest {
  container_requests: {
    available_deviceIDs: string[];
    must_include_deviceIDs: string[];
    allocation_size: number;
  }[];
}
export interface PreferredAllocationResponse {
  container_responses: { deviceIDs: string[] }[];
}
export interface AllocateRequest {
  container_requests: { devices_ids: string[] }[];
}
export interface DeviceSpec {
  container_path: string;
  host_path: string;
  permissions: string;
}
export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  mounts: { container_path: string; host_path: string; read_only: boolean }[];
  devices: DeviceSpec[];
  annotations: Record<string, string>;
  cdi_devices: { name: string }[];
}
export interface AllocateResponse {
  container_responses: ContainerAllocateResponse[];
}
export interface ContainerDevices {
  resource_name: string;
  device_ids: string[];
  topology: TopologyInfo | null;
}
export interface ListPodResourcesResponse {
  pod_resources: {
    name: string;
    namespace: string;
    containers: { name: string; devices: ContainerDevices[] }[];
  }[];
}
export type Empty = Record<string, never>;

export interface KubeletApis {
  readonly registration: ServiceDefinition;
  readonly podResourcesLister: ServiceDefinition;
  readonly getDevicePluginOptions: MethodDefinition<Empty, DevicePluginOptions>;
  readonly listAndWatch: MethodDefinition<Empty, ListAndWatchResponse>;
  readonly getPreferredAllocation: MethodDefinition<PreferredAllocationRequest, PreferredAllocationResponse>;
  readonly allocate: MethodDefinition<AllocateRequest, AllocateResponse>;
  readonly register: MethodDefinition<RegisterRequest, Empty>;
  readonly listPodResources: MethodDefinition<Empty, ListPodResourcesResponse>;
}

const LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
} as const;

function service(def: PackageDefinition, name: string): ServiceDefinition {
  const s = def[name];
  if (s === undefined || 'format' in s) throw new Error(`fake kubelet: service ${name} not in the proto`);
  return s;
}

function method<Req, Res>(s: ServiceDefinition, name: string, path: string): MethodDefinition<Req, Res> {
  const m = s[name];
  if (m?.path !== path) throw new Error(`fake kubelet: method ${path} not in the proto`);
  return m as unknown as MethodDefinition<Req, Res>;
}

export function loadKubeletApis(protoDir: string = DEFAULT_PROTO_DIR): KubeletApis {
  const dp = loadSync('deviceplugin/v1beta1/api.proto', { ...LOADER_OPTIONS, includeDirs: [protoDir] });
  const pr = loadSync('podresources/v1/api.proto', { ...LOADER_OPTIONS, includeDirs: [protoDir] });
  const registration = service(dp, 'v1beta1.Registration');
  const plugin = service(dp, 'v1beta1.DevicePlugin');
  const lister = service(pr, 'v1.PodResourcesLister');
  const p = '/v1beta1.DevicePlugin/';
  return {
    registration,
    podResourcesLister: lister,
    register: method(registration, 'Register', '/v1beta1.Registration/Register'),
    getDevicePluginOptions: method(plugin, 'GetDevicePluginOptions', `${p}GetDevicePluginOptions`),
    listAndWatch: method(plugin, 'ListAndWatch', `${p}ListAndWatch`),
    getPreferredAllocation: method(plugin, 'GetPreferredAllocation', `${p}GetPreferredAllocation`),
    allocate: method(plugin, 'Allocate', `${p}Allocate`),
    listPodResources: method(lister, 'List', '/v1.PodResourcesLister/List'),
  };
}

/**
 * An extended resource name as the kubelet accepts it (`IsExtendedResourceName`): a
 * domain-prefixed name outside `kubernetes.io/` and not starting with `requests.`.
 */
export function isExtendedResourceName(name: string): boolean {
  if (name.startsWith('requests.') || name.includes('kubernetes.io/')) return false;
  return /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(
    name,
  );
}
