/**
 * Retries an assertion until it passes (or the deadline, then its last error is thrown). For
 * waiting on asynchronous effects (a stream answer, a reconnect); never used to assert speed.
 */
export async function eventually<T>(
  check: () => Promise<T> | T,
  opts: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
    }
  }
}
