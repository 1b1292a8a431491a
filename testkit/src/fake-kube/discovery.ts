/** The discovery documents (/api, /apis, /api/v1, /apis/rdmasched.io/v1alpha1, /version, health). */
import { API_GROUP, API_GROUP_VERSION, API_VERSION } from '@rdmasched/crds';
import { RESOURCES, type ResourceType } from './resources.js';

const VERBS = ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'];

function resourceList(groupVersion: string, resources: readonly ResourceType[]): Record<string, unknown> {
  const list: Record<string, unknown>[] = [];
  for (const r of resources) {
    list.push({
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
      shortNames: r.shortNames,
    });
    if (r.hasStatus)
      list.push({
        name: `${r.plural}/status`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'patch', 'update'],
      });
    if (r.plural === 'pods') {
      list.push({
        name: 'pods/binding',
        singularName: '',
        namespaced: true,
        kind: 'Binding',
        verbs: ['create'],
      });
      list.push({ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources: list };
}

/** The document served at `pathname`, or undefined when it is not a discovery path. */
export function discovery(pathname: string, serverUrl: string): unknown {
  const path = pathname.replace(/\/+$/, '') || '/';
  switch (path) {
    case '/healthz':
    case '/readyz':
    case '/livez':
      return 'ok';
    case '/version':
      return {
        major: '1',
        minor: '33',
        gitVersion: 'v1.33.0-rdmasched-fake',
        gitCommit: '0000000000000000000000000000000000000000',
        gitTreeState: 'clean',
        buildDate: '2026-01-01T00:00:00Z',
        goVersion: 'go1.24',
        compiler: 'gc',
        platform: 'linux/amd64',
      };
    case '/api':
      return {
        kind: 'APIVersions',
        versions: ['v1'],
        serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: new URL(serverUrl).host }],
      };
    case '/apis':
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: [
          {
            name: API_GROUP,
            versions: [{ groupVersion: API_GROUP_VERSION, version: API_VERSION }],
            preferredVersion: { groupVersion: API_GROUP_VERSION, version: API_VERSION },
          },
        ],
      };
    case '/api/v1':
      return resourceList(
        'v1',
        RESOURCES.filter((r) => r.group === ''),
      );
    case `/apis/${API_GROUP}`:
      return {
        kind: 'APIGroup',
        apiVersion: 'v1',
        name: API_GROUP,
        versions: [{ groupVersion: API_GROUP_VERSION, version: API_VERSION }],
        preferredVersion: { groupVersion: API_GROUP_VERSION, version: API_VERSION },
      };
    case `/apis/${API_GROUP_VERSION}`:
      return resourceList(
        API_GROUP_VERSION,
        RESOURCES.filter((r) => r.group === API_GROUP),
      );
    default:
      return undefined;
  }
}
