import { describe, expect, it } from 'vitest';
import { ipArgv, parseEswitchMode, parseVfInfoList } from './iproute2.js';

describe('ip and devlink output (reference §7.4)', () => {
  it('parses an IB vfinfo_list, keys with spaces included', () => {
    const out = JSON.stringify([
      {
        ifindex: 4,
        ifname: 'ibp26s0',
        link_type: 'infiniband',
        vfinfo_list: [
          {
            vf: 0,
            link_type: 'infiniband',
            address: '00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00:00',
            'node guid': '11:22:33:44:55:66:77:00',
            'port guid': '11:22:33:44:55:66:77:00',
            link_state: 'auto',
          },
          {
            vf: 1,
            link_type: 'infiniband',
            'node guid': '00:00:00:00:00:00:00:00',
            'port guid': '00:00:00:00:00:00:00:00',
          },
        ],
      },
    ]);
    expect(parseVfInfoList(out)).toEqual([
      { vf: 0, mac: null, nodeGuid: '11:22:33:44:55:66:77:00', portGuid: '11:22:33:44:55:66:77:00' },
      { vf: 1, mac: null, nodeGuid: null, portGuid: null },
    ]);
  });
  it('parses an Ethernet vfinfo_list (admin MAC in address)', () => {
    const out = JSON.stringify([
      { vfinfo_list: [{ vf: 2, link_type: 'ether', address: '02:00:00:00:01:01', vlan_list: [{}] }] },
    ]);
    expect(parseVfInfoList(out)).toEqual([
      { vf: 2, mac: '02:00:00:00:01:01', nodeGuid: null, portGuid: null },
    ]);
  });
  it('reads a link without VFs as an empty list and garbage as undefined', () => {
    expect(parseVfInfoList('[{"ifname":"eth0"}]')).toEqual([]);
    expect(parseVfInfoList('Device "x" does not exist.')).toBeUndefined();
  });
  it('reads the eswitch mode, anything unexpected as legacy', () => {
    const pf = '0000:9e:00.0';
    expect(
      parseEswitchMode(
        '{"dev":{"pci/0000:9e:00.0":{"mode":"legacy","inline-mode":"none","encap-mode":"basic"}}}',
        pf,
      ),
    ).toBe('legacy');
    expect(parseEswitchMode('{"dev":{"pci/0000:9e:00.0":{"mode":"switchdev"}}}', pf)).toBe('switchdev');
    expect(parseEswitchMode('', pf)).toBe('legacy');
  });
  it('builds the argv ip takes (no shell)', () => {
    expect(ipArgv.setVfNodeGuid('ibp26s0', 3, '02:00:00:00:00:00:00:01')).toEqual([
      'link',
      'set',
      'dev',
      'ibp26s0',
      'vf',
      '3',
      'node_guid',
      '02:00:00:00:00:00:00:01',
    ]);
  });
});
