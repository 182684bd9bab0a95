import type { EventStore } from '#ports/eventStore';
import type { Logger } from '#logging/jsonLogger';
import type { ProjectorMetrics } from './projectorMetrics.ts';

export interface LagSampler {
  stop(): void;
}

/** Samples the head of the log now and then; lag = head position − checkpoint. */
export const startLagSampler = (
  eventStore: Pick<EventStore, 'headPosition'>,
  checkpoint: () => bigint | null,
  metrics: ProjectorMetrics,
  logger: Logger,
  intervalMs: number,
): LagSampler => {
  let sampling = false;
  const sample = async (): Promise<void> => {
    if (sampling) return;
    sampling = true;
    try {
      const head = await eventStore.headPosition();
      const done = checkpoint();
      const lag = head === null ? 0n : done === null ? head + 1n : head > done ? head - done : 0n;
      metrics.lag.set(Number(lag));
    } catch (error) {
      logger.debug('could not sample the head of the log', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      sampling = false;
    }
  };
  const timer = setInterval(() => void sample(), intervalMs);
  timer.unref();
  void sample();
  return { stop: () => clearInterval(timer) };
};
