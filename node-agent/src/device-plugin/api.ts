/**
 * The kubelet APIs the device plugin speaks, loaded at run time from the `.proto` files shipped in
 * `node-agent/proto/` (written from the upstream definitions: deviceplugin v1beta1, podresources
 * v1). Field names are kept exactly as in the proto (`keepCase`), so the TypeScript types below
 * read like the upstream API (`available_deviceIDs`, `devices_ids`, `ID`).
 */
import { fileURLToPath } from 'node:url';
import type { MethodDefinition } from '@grpc/grpc-js';
import { loadSync, type PackageDefinition, type ServiceDefinition } from '@grpc/proto-loader';

/** API version sent in RegisterRequest (upstream constants.go `Version`). */
export const DEVICE_PLUGIN_API_VERSION = 'v1beta1';
export const HEALTHY = 'Healthy';
export const UNHEALTHY = 'Unhealthy';
/** Where the kubelet looks for plugin sockets and serves `kubelet.sock`. */
export const DEFAULT_DEVICE_PLUGIN_DIR = '/var/lib/kubelet/device-plugins';
export const KUBELET_SOCKET_NAME = 'kubelet.sock';
/** The kubelet's PodResources socket. */
export const DEFAULT_POD_RESOURCES_SOCKET = '/var/lib/kubelet/pod-resources/kubelet.sock';

/** The proto files, next to `src/` and `dist/` alike. */
export const PROTO_DIR = fileURLToPath(new URL('../../proto/', import.meta.url));
export const DEVICE_PLUGIN_PROTO = 'deviceplugin/v1beta1/api.proto';
export const POD_RESOURCES_PROTO = 'podresources/v1/api.proto';

// ---------------------------------------------------------------- deviceplugin v1beta1 messages

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
export type Empty = Record<string, never>;
export interface NumaNode {
  ID: number;
}
export interface TopologyInfo {
  nodes: NumaNode[];
}
export interface Device {
  ID: string;
  health: string;
  topology: TopologyInfo | null;
}
export interface ListAndWatchResponse {
  devices: Device[];
}
export interface ContainerPreferredAllocationRequest {
  available_deviceIDs: string[];
  must_include_deviceIDs: string[];
  allocation_size: number;
}
export interface PreferredAllocationRequest {
  container_requests: ContainerPreferredAllocationRequest[];
}
export interface ContainerPreferredAllocationResponse {
  deviceIDs: string[];
}
export interface PreferredAllocationResponse {
  container_responses: ContainerPreferredAllocationResponse[];
}
export interface ContainerAllocateRequest {
  devices_ids: string[];
}
export interface AllocateRequest {
  container_requests: ContainerAllocateRequest[];
}
export interface Mount {
  container_path: string;
  host_path: string;
  read_only: boolean;
}
export interface DeviceSpec {
  container_path: string;
  host_path: string;
  permissions: string;
}
export interface CdiDevice {
  name: string;
}
export interface ContainerAllocateResponse {
  envs: Record<string, string>;
  mounts: Mount[];
  devices: DeviceSpec[];
  annotations: Record<string, string>;
  cdi_devices: CdiDevice[];
}
export interface AllocateResponse {
  container_responses: ContainerAllocateResponse[];
}
export interface PreStartContainerRequest {
  devices_ids: string[];
}

// ---------------------------------------------------------------- podresources v1 messages

export interface ContainerDevices {
  resource_name: string;
  device_ids: string[];
  topology: TopologyInfo | null;
}
export interface ContainerResources {
  name: string;
  devices: ContainerDevices[];
}
export interface PodResources {
  name: string;
  namespace: string;
  containers: ContainerResources[];
}
export interface ListPodResourcesResponse {
  pod_resources: PodResources[];
}

// ---------------------------------------------------------------- loading

/** How every rdmasched component loads these protos (the fake kubelet uses the same options). */
export const PROTO_LOADER_OPTIONS = {
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
} as const;

export interface DevicePluginApi {
  readonly registration: ServiceDefinition;
  readonly devicePlugin: ServiceDefinition;
  readonly register: MethodDefinition<RegisterRequest, Empty>;
  readonly getDevicePluginOptions: MethodDefinition<Empty, DevicePluginOptions>;
  readonly listAndWatch: MethodDefinition<Empty, ListAndWatchResponse>;
  readonly getPreferredAllocation: MethodDefinition<PreferredAllocationRequest, PreferredAllocationResponse>;
  readonly allocate: MethodDefinition<AllocateRequest, AllocateResponse>;
  readonly preStartContainer: MethodDefinition<PreStartContainerRequest, Empty>;
}

export interface PodResourcesApi {
  readonly podResourcesLister: ServiceDefinition;
  readonly list: MethodDefinition<Empty, ListPodResourcesResponse>;
}

function service(def: PackageDefinition, name: string): ServiceDefinition {
  const s = def[name];
  // Message and enum definitions carry a `format`; services do not.
  if (s === undefined || 'format' in s)
    throw new Error(`proto: service ${name} missing from the loaded definition`);
  return s;
}

function method<Req, Res>(s: ServiceDefinition, name: string, path: string): MethodDefinition<Req, Res> {
  const m = s[name];
  if (m?.path !== path) throw new Error(`proto: method ${path} missing from the loaded definition`);
  return m as unknown as MethodDefinition<Req, Res>;
}

let devicePluginApi: DevicePluginApi | undefined;
let podResourcesApi: PodResourcesApi | undefined;

/** Loads (once) the deviceplugin v1beta1 services. Throws only if the shipped proto is broken. */
export function loadDevicePluginApi(protoDir: string = PROTO_DIR): DevicePluginApi {
  if (devicePluginApi !== undefined && protoDir === PROTO_DIR) return devicePluginApi;
  const def = loadSync(DEVICE_PLUGIN_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir] });
  const registration = service(def, 'v1beta1.Registration');
  const devicePlugin = service(def, 'v1beta1.DevicePlugin');
  const p = '/v1beta1.DevicePlugin/';
  const api: DevicePluginApi = {
    registration,
    devicePlugin,
    register: method(registration, 'Register', '/v1beta1.Registration/Register'),
    getDevicePluginOptions: method(devicePlugin, 'GetDevicePluginOptions', `${p}GetDevicePluginOptions`),
    listAndWatch: method(devicePlugin, 'ListAndWatch', `${p}ListAndWatch`),
    getPreferredAllocation: method(devicePlugin, 'GetPreferredAllocation', `${p}GetPreferredAllocation`),
    allocate: method(devicePlugin, 'Allocate', `${p}Allocate`),
    preStartContainer: method(devicePlugin, 'PreStartContainer', `${p}PreStartContainer`),
  };
  if (protoDir === PROTO_DIR) devicePluginApi = api;
  return api;
}

/** Loads (once) the podresources v1 service. */
export function loadPodResourcesApi(protoDir: string = PROTO_DIR): PodResourcesApi {
  if (podResourcesApi !== undefined && protoDir === PROTO_DIR) return podResourcesApi;
  const def = loadSync(POD_RESOURCES_PROTO, { ...PROTO_LOADER_OPTIONS, includeDirs: [protoDir] });
  const lister = service(def, 'v1.PodResourcesLister');
  const api: PodResourcesApi = {
    podResourcesLister: lister,
    list: method(lister, 'List', '/v1.PodResourcesLister/List'),
  };
  if (protoDir === PROTO_DIR) podResourcesApi = api;
  return api;
}

/**
 * The environment variable the SR-IOV device plugin convention gives a resource's PCI addresses:
 * `PCIDEVICE_` + the resource name upper-cased with every other character as `_`
 * (`rdmasched.io/ib-vf` -> `PCIDEVICE_RDMASCHED_IO_IB_VF`).
 */
export function pciDeviceEnvName(resourceName: string): string {
  return `PCIDEVICE_${resourceName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

/** `rdmasched.io/ib-vf` -> `IB_VF`: the per-resource suffix of rdmasched's own variables. */
export function resourceEnvSuffix(resourceName: string): string {
  const short = resourceName.slice(resourceName.lastIndexOf('/') + 1);
  return short.toUpperCase().replace(/[^A-Z0-9]/g, '_');
}

/** The plugin's socket file name for a resource: `rdmasched-ib-vf.sock`. */
export function pluginSocketName(resourceName: string, prefix = 'rdmasched'): string {
  const short = resourceName.slice(resourceName.lastIndexOf('/') + 1);
  return `${prefix}-${short.replace(/[^A-Za-z0-9_.-]/g, '_')}.sock`;
}
