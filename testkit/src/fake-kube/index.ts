export {
  FakeKubeApiServer,
  type FakeKubeApiServerOptions,
  type FaultSpec,
  type RequestLogEntry,
} from './server.js';
export { FakeKubeStore, BUILTIN_NAMESPACES, type WatchEventType, type WriteResult } from './store.js';
export { FakeKubelet, type PodPhase, type SetPhaseOptions } from './kubelet.js';
export { ApiError } from './api-error.js';
export {
  EVENT,
  NAMESPACE,
  NODE,
  POD,
  RDMA_NODE_POLICY_RESOURCE,
  RDMA_TENANT_RESOURCE,
  RESOURCES,
  type KubeObject,
  type ResourceType,
} from './resources.js';
export { applyPatch, mergePatch, PATCH_TYPES } from './patch.js';
export { parseFieldSelector, parseLabelSelector } from './selectors.js';
