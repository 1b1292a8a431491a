export * from './free-port.js';
export * from './system-packages.js';
export * from './redis-server.js';
export * from './prometheus.js';
export * from './scheduler-driver/index.js';
export * from './fake-kube/index.js';
export * from './fake-kubelet/index.js';
export * from './tls-files.js';
