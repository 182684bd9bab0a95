/** Latency samples (ms) → the figures a benchmark reports. */
export interface LatencySummary {
  readonly count: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

export const summarize = (samples: readonly number[], elapsedMs: number): LatencySummary => {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { count: samples.length, perSecond: Math.round(samples.length / (elapsedMs / 1000)), p50Ms: round(quantile(sorted, 0.5)), p99Ms: round(quantile(sorted, 0.99)) };
};

/** `clients` concurrent loops calling `operation(clientIndex, n)` for `durationMs`; every call's latency. */
export const closedLoop = async (clients: number, durationMs: number, operation: (client: number, n: number) => Promise<void>): Promise<LatencySummary> => {
  const samples: number[] = [];
  const startedAt = performance.now();
  const deadline = startedAt + durationMs;
  await Promise.all(
    Array.from({ length: clients }, async (_, client) => {
      for (let n = 0; performance.now() < deadline; n++) {
        const at = performance.now();
        await operation(client, n);
        samples.push(performance.now() - at);
      }
    }),
  );
  return summarize(samples, performance.now() - startedAt);
};
