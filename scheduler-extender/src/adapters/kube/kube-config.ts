/**
 * The KubeConfig the extender talks to the API with: the pod's service account in the cluster
 * (token, CA, KUBERNETES_SERVICE_HOST), or a kubeconfig file (its TLS and token settings honoured
 * as client-node reads them). `auto` picks the file when one is configured, in-cluster when
 * running in a pod, and no API otherwise.
 */
import { KubeConfig } from '@kubernetes/client-node';

export const KUBE_API_MODES = ['auto', 'in-cluster', 'kubeconfig', 'off'] as const;
export type KubeApiMode = (typeof KUBE_API_MODES)[number];

/** The mode `auto` resolves to in this environment. */
export function resolveKubeApiMode(
  mode: KubeApiMode,
  kubeconfigPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): Exclude<KubeApiMode, 'auto'> {
  if (mode !== 'auto') return mode;
  if (kubeconfigPath !== undefined) return 'kubeconfig';
  if ((env['KUBERNETES_SERVICE_HOST'] ?? '') !== '') return 'in-cluster';
  return 'off';
}

/** Loads the KubeConfig for a resolved mode; undefined for `off`. Throws when the file cannot be read. */
export function loadKubeConfig(
  mode: Exclude<KubeApiMode, 'auto'>,
  kubeconfigPath: string | undefined,
): KubeConfig | undefined {
  if (mode === 'off') return undefined;
  const kc = new KubeConfig();
  if (mode === 'in-cluster') kc.loadFromCluster();
  else if (kubeconfigPath !== undefined) kc.loadFromFile(kubeconfigPath);
  else kc.loadFromDefault();
  return kc;
}
