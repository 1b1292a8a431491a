import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseSysfsRate } from './port-rate.js';

describe('parseSysfsRate', () => {
  // Examples from sysfs-sriov-rdma.md §3.1 and the kernel's rate_show format "%d%s Gb/sec (%dX%s)".
  it.each([
    ['400 Gb/sec (4X NDR)', 400, 4, 'NDR'],
    ['400 Gb/sec (4X NDR)\n', 400, 4, 'NDR'],
    ['200 Gb/sec (4X HDR)', 200, 4, 'HDR'],
    ['100 Gb/sec (4X EDR)', 100, 4, 'EDR'],
    ['2.5 Gb/sec (1X SDR)', 2.5, 1, 'SDR'],
    ['40 Gb/sec (4X FDR10)', 40, 4, 'FDR10'],
    ['800 Gb/sec (4X XDR)', 800, 4, 'XDR'],
    ['10 Gb/sec (4X)', 10, 4, null],
  ])('%j -> %d Gb/s', (text, gbps, width, speed) => {
    expect(parseSysfsRate(text)).toEqual({ ok: true, value: { gbps, width, speed } });
  });

  it.each([
    '',
    '400',
    '400 Gb/s (4X NDR)',
    '400 Gb/sec',
    '400 Gb/sec (NDR)',
    '2.25 Gb/sec (1X SDR)',
    '-1 Gb/sec (1X SDR)',
    '400 Gb/sec (0X NDR)',
    'EINVAL',
  ])('%j is refused with the text in the error', (text) => {
    const r = parseSysfsRate(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toContain(JSON.stringify(text.trim()));
  });

  it('reads back what the kernel format prints', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20000 }),
        fc.boolean(),
        fc.constantFrom(1, 2, 4, 8, 12),
        fc.constantFrom(' SDR', ' DDR', ' QDR', ' FDR10', ' FDR', ' EDR', ' HDR', ' NDR', ' XDR', ''),
        (tenths, half, width, speed) => {
          const text = `${tenths}${half ? '.5' : ''} Gb/sec (${width}X${speed})\n`;
          expect(parseSysfsRate(text)).toEqual({
            ok: true,
            value: { gbps: tenths + (half ? 0.5 : 0), width, speed: speed === '' ? null : speed.trim() },
          });
        },
      ),
    );
  });
});
