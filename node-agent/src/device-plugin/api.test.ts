/**
 * Golden wire format: the shipped .proto files must encode exactly as the upstream kubelet APIs
 * do. The expected bytes are written from the upstream field numbers and types (deviceplugin
 * v1beta1, podresources v1), not produced by the code under test.
 */
import { describe, expect, it } from 'vitest';
import {
  loadDevicePluginApi,
  loadPodResourcesApi,
  pciDeviceEnvName,
  pluginSocketName,
  resourceEnvSuffix,
} from './api.js';

// Protobuf wire encoding, by hand: tag = (field << 3) | wire type; 0 = varint, 2 = length-delimited.
const varint = (n: number): number[] => {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
};
const bytes = (field: number, payload: readonly number[]) => [
  (field << 3) | 2,
  ...varint(payload.length),
  ...payload,
];
const str = (field: number, s: string) => bytes(field, [...Buffer.from(s, 'utf8')]);
const int = (field: number, n: number) => [(field << 3) | 0, ...varint(n)];
const hex = (b: readonly number[]) => Buffer.from(b).toString('hex');

describe('deviceplugin v1beta1 wire format', () => {
  const api = loadDevicePluginApi();

  it('uses the upstream service paths', () => {
    expect(api.register.path).toBe('/v1beta1.Registration/Register');
    expect(api.listAndWatch.path).toBe('/v1beta1.DevicePlugin/ListAndWatch');
    expect(api.listAndWatch.responseStream).toBe(true);
    expect(api.getPreferredAllocation.path).toBe('/v1beta1.DevicePlugin/GetPreferredAllocation');
    expect(api.allocate.path).toBe('/v1beta1.DevicePlugin/Allocate');
    expect(api.preStartContainer.path).toBe('/v1beta1.DevicePlugin/PreStartContainer');
    expect(api.getDevicePluginOptions.path).toBe('/v1beta1.DevicePlugin/GetDevicePluginOptions');
  });

  it('RegisterRequest: version 1, endpoint 2, resource_name 3, options 4 {pre_start_required 1, get_preferred_allocation_available 2}', () => {
    const req = {
      version: 'v1beta1',
      endpoint: 'rdmasched-ib-vf.sock',
      resource_name: 'rdmasched.io/ib-vf',
      options: { pre_start_required: false, get_preferred_allocation_available: true },
    };
    const head = [...str(1, 'v1beta1'), ...str(2, 'rdmasched-ib-vf.sock'), ...str(3, 'rdmasched.io/ib-vf')];
    // What we send (protobuf.js writes the explicit false; proto3 readers accept it).
    expect(api.register.requestSerialize(req).toString('hex')).toBe(
      hex([...head, ...bytes(4, [...int(1, 0), ...int(2, 1)])]),
    );
    // What the kubelet's Go encoder would send (defaults omitted) reads the same.
    expect(api.register.requestDeserialize(Buffer.from([...head, ...bytes(4, int(2, 1))]))).toEqual(req);
  });

  it('ListAndWatchResponse: devices 1 {ID 1, health 2, topology 3 {nodes 1 {ID 1 int64}}}', () => {
    const device = [...str(1, '0000:1a:00.1'), ...str(2, 'Healthy'), ...bytes(3, bytes(1, int(1, 1)))];
    const b = api.listAndWatch.responseSerialize({
      devices: [{ ID: '0000:1a:00.1', health: 'Healthy', topology: { nodes: [{ ID: 1 }] } }],
    });
    expect(b.toString('hex')).toBe(hex(bytes(1, device)));
  });

  it('PreferredAllocation: available_deviceIDs 1, must_include_deviceIDs 2, allocation_size 3; deviceIDs 1', () => {
    const req = api.getPreferredAllocation.requestDeserialize(
      Buffer.from(
        bytes(1, [
          ...str(1, '0000:1a:00.1'),
          ...str(1, '0000:1a:00.2'),
          ...str(2, '0000:1a:00.2'),
          ...int(3, 2),
        ]),
      ),
    );
    expect(req).toEqual({
      container_requests: [
        {
          available_deviceIDs: ['0000:1a:00.1', '0000:1a:00.2'],
          must_include_deviceIDs: ['0000:1a:00.2'],
          allocation_size: 2,
        },
      ],
    });
    const res = api.getPreferredAllocation.responseSerialize({
      container_responses: [{ deviceIDs: ['0000:1a:00.2', '0000:1a:00.1'] }],
    });
    expect(res.toString('hex')).toBe(hex(bytes(1, [...str(1, '0000:1a:00.2'), ...str(1, '0000:1a:00.1')])));
  });

  it('Allocate: devices_ids 1; envs 1 (map), mounts 2, devices 3 {container_path 1, host_path 2, permissions 3}', () => {
    const req = api.allocate.requestDeserialize(Buffer.from(bytes(1, str(1, '0000:1a:00.1'))));
    expect(req).toEqual({ container_requests: [{ devices_ids: ['0000:1a:00.1'] }] });
    const res = api.allocate.responseSerialize({
      container_responses: [
        {
          envs: { K: 'v' },
          mounts: [],
          devices: [
            {
              container_path: '/dev/infiniband/uverbs2',
              host_path: '/dev/infiniband/uverbs2',
              permissions: 'rw',
            },
          ],
          annotations: {},
          cdi_devices: [],
        },
      ],
    });
    const env = bytes(1, [...str(1, 'K'), ...str(2, 'v')]);
    const spec = bytes(3, [
      ...str(1, '/dev/infiniband/uverbs2'),
      ...str(2, '/dev/infiniband/uverbs2'),
      ...str(3, 'rw'),
    ]);
    expect(res.toString('hex')).toBe(hex(bytes(1, [...env, ...spec])));
  });
});

describe('podresources v1 wire format', () => {
  it('ListPodResourcesResponse: pod_resources 1 {name 1, namespace 2, containers 3 {name 1, devices 2 {resource_name 1, device_ids 2, topology 3}}}', () => {
    const api = loadPodResourcesApi();
    expect(api.list.path).toBe('/v1.PodResourcesLister/List');
    const devices = [
      ...str(1, 'rdmasched.io/ib-vf'),
      ...str(2, '0000:1a:00.1'),
      ...bytes(3, bytes(1, int(1, 0))),
    ];
    const container = [...str(1, 'worker'), ...bytes(2, devices), ...int(3, 7)];
    const pod = [...str(1, 'mpi-0'), ...str(2, 'team-a'), ...bytes(3, container)];
    const decoded = api.list.responseDeserialize(Buffer.from(bytes(1, pod)));
    expect(decoded.pod_resources).toEqual([
      {
        name: 'mpi-0',
        namespace: 'team-a',
        containers: [
          expect.objectContaining({
            name: 'worker',
            devices: [
              {
                resource_name: 'rdmasched.io/ib-vf',
                device_ids: ['0000:1a:00.1'],
                topology: { nodes: [{ ID: 0 }] },
              },
            ],
          }),
        ],
      },
    ]);
  });
});

describe('names', () => {
  it.each([
    ['rdmasched.io/ib-vf', 'PCIDEVICE_RDMASCHED_IO_IB_VF', 'IB_VF', 'rdmasched-ib-vf.sock'],
    ['rdmasched.io/roce-vf', 'PCIDEVICE_RDMASCHED_IO_ROCE_VF', 'ROCE_VF', 'rdmasched-roce-vf.sock'],
    [
      'intel.com/intel_sriov_netdevice',
      'PCIDEVICE_INTEL_COM_INTEL_SRIOV_NETDEVICE',
      'INTEL_SRIOV_NETDEVICE',
      'rdmasched-intel_sriov_netdevice.sock',
    ],
  ])('%s -> %s, %s, %s', (resource, env, suffix, socket) => {
    expect(pciDeviceEnvName(resource)).toBe(env);
    expect(resourceEnvSuffix(resource)).toBe(suffix);
    expect(pluginSocketName(resource)).toBe(socket);
  });
});
