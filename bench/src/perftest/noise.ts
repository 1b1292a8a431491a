/**
 * Lines that interleave with perftest's results, especially when stdout and stderr are merged
 * (`kubectl logs`, `2>&1`). Catalogue from perftest.md §3 and perftest's own sources. None of
 * them carries a figure; the parser keeps them as warnings so a report can show, for example,
 * that the CPU was not at full frequency while latency was measured.
 */

export interface NoisePattern {
  readonly code: string;
  readonly pattern: RegExp;
  /** What the line means for the person reading a report. */
  readonly meaning: string;
}

export const NOISE_PATTERNS: readonly NoisePattern[] = [
  {
    code: 'cpu-frequency',
    pattern: /Conflicting CPU frequency values detected/,
    meaning: 'CPU frequency is not at its maximum; latency may read high (perftest -F only hides this)',
  },
  {
    code: 'libibverbs',
    pattern: /^\s*libibverbs: Warning:/,
    meaning: 'libibverbs could not see some devices (usual in a pod that holds one isolated VF)',
  },
  {
    code: 'peak-disabled',
    pattern: /WARNING: BW peak won't be measured in this run/,
    meaning: 'duration mode: perftest prints peak 0.00, the peak was not measured',
  },
  {
    code: 'cuda',
    pattern:
      /CUDA|cuMem|cuCtx|GPU buffer|^\s*\[pid = \d+, dev = \d+\]|Picking device No\.|Listing all .* devices|DMA-BUF/,
    meaning: 'GPUDirect set-up messages (--use_cuda)',
  },
  {
    code: 'pcie-relaxed-ordering',
    pattern: /WARNING: (CPU is not PCIe relaxed ordering compliant|You should disable PCIe RO)/,
    meaning: 'the CPU is known not to handle PCIe relaxed ordering',
  },
  {
    code: 'server-waiting',
    pattern:
      /Waiting for client (to connect|rdma_cm QP to connect)|Please run the same command with the IB\/RoCE interface IP|^\s*\*{10,}\s*$/,
    meaning: 'the server side waiting for its client',
  },
  {
    code: 'mtu-adjusted',
    pattern:
      /Requested mtu is higher than active mtu|Changing to active mtu|Max msg size in (UD|RawEth) is|Changing (msg size )?to this MTU/i,
    meaning: 'perftest changed the MTU or message size to what the port allows',
  },
  {
    code: 'events-mode',
    pattern: /^\s*Test with events\.|^\s*MultiCast runs on UD!/,
    meaning: 'test mode note',
  },
];

/** Driver CQE dumps (`mlx5: host: got completion with error:` then 32-bit hex words). */
const HEX_DUMP = /^\s*[0-9a-f]{8}( [0-9a-f]{8}){3}\s*$/;
const TOOL_ERROR =
  /\b(couldn'?t|could not|unable to|failed|failure|error|cannot|can't|invalid|not supported)\b/i;

/** Returns the noise pattern a line matches, if any. */
export function matchNoise(line: string): NoisePattern | undefined {
  return NOISE_PATTERNS.find((p) => p.pattern.test(line));
}

/** True for lines where perftest, libibverbs or the driver report a failure. */
export function isToolError(line: string): boolean {
  return TOOL_ERROR.test(line) || HEX_DUMP.test(line);
}
