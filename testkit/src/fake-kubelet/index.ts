export {
  FakeKubeletDeviceManager,
  FakeKubeletAllocateError,
  type AllocateOptions,
  type FakeKubeletOptions,
  type KubeletAllocation,
  type RegisteredPlugin,
  type RegistrationRecord,
} from './fake-kubelet.js';
export {
  KUBELET_CHECKPOINT,
  KUBELET_SOCKET,
  SUPPORTED_DEVICE_PLUGIN_VERSIONS,
  isExtendedResourceName,
  loadKubeletApis,
  type KubeletApis,
} from './api.js';
export type {
  AllocateResponse as KubeletAllocateResponse,
  ContainerAllocateResponse as KubeletContainerAllocateResponse,
  Device as KubeletDevice,
  DeviceSpec as KubeletDeviceSpec,
  ListPodResourcesResponse as KubeletListPodResourcesResponse,
} from './api.js';
