/** The figures every benchmark reports, computed one way. */

/** The middle value (the mean of the two middle ones for an even count); NaN for none. */
export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
};

/** Seconds of CPU spread over `events`, in µs per event to one decimal. */
export const perEvent = (seconds: number, events: number): number => Math.round((seconds * 1e6 * 10) / events) / 10;

/** This process's peak resident set so far, in MB to one decimal. */
export const peakRssMb = (): number => Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;

/** Seconds of CPU the Redis server has used (user + system), from INFO cpu. */
export const redisCpuSeconds = async (send: (args: string[]) => Promise<unknown>): Promise<number> => {
  const info = String(await send(['INFO', 'cpu']));
  const field = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? Number.NaN);
  return field('used_cpu_user') + field('used_cpu_sys');
};
