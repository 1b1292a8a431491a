export {
  FakeKubeApiServer,
  type FakeKubeApiServerOptions,
  type FaultSpec,
  type RequestLogEntry,
} from './server.js';
export { FakeKubeStore, BUILTIN_NAMESPACES, type WatchEventType, type WriteResult } from './store.js';
export { FakeKubelet, type PodPhase, type SetPhaseOptions } from './kubelet.js';
export { ApiError as FakeKubeApiError } from './api-error.js';
export {
  EVENT as EVENT_RESOURCE,
  NAMESPACE as NAMESPACE_RESOURCE,
  NODE as NODE_RESOURCE,
  POD as POD_RESOURCE,
  RDMA_NODE_POLICY_RESOURCE,
  RDMA_TENANT_RESOURCE,
  RESOURCES as FAKE_KUBE_RESOURCES,
  type KubeObject,
  type ResourceType,
} from './resources.js';
export { applyPatch, mergePatch, PATCH_TYPES } from './patch.js';
export { parseFieldSelector, parseLabelSelector } from './selectors.js';
