import { overrideApplyBatch } from './overrideApplyBatch.ts';
import type { ProjectorMetrics } from './projectorMetrics.ts';

/**
 * The projector's CloudWatch metrics, as Embedded Metric Format lines on stdout beside the
 * Prometheus `/metrics` (the same counters, read from the same registry): every interval one JSON
 * line that CloudWatch Logs turns into metrics in the `Chronicle` namespace, dimension `Stage`.
 * The alarms in deploy/alarms.yml watch these names.
 *
 * - ProjectorLagPositions: head of the log minus the checkpoint at the end of the interval.
 * - ProjectorLagSeconds: mean time from an event being recorded to its read-model write, over the
 *   events applied in the interval (0 when none were).
 * - ProjectorBatchLatencyMs: mean duration of one read-model batch write in the interval.
 * - ProjectorEventsApplied, ProjectorParkedEvents: counts in the interval.
 */
export interface EmfPublisher {
  /** Writes one line now (also called on stop, so the last interval is not lost). */
  flush(): Promise<void>;
  stop(): Promise<void>;
}

export interface EmfOptions {
  readonly metrics: ProjectorMetrics;
  /** Durations of batch writes since the last flush, in ms; drained by each flush. */
  readonly batchWriteDurations: () => readonly number[];
  readonly stage: string;
  readonly intervalMs: number;
  readonly write?: (line: string) => void;
  readonly now?: () => number;
}

const NAMESPACE = 'Chronicle';

const sumOf = async (metric: { get(): Promise<{ values: ReadonlyArray<{ value: number; metricName?: string }> }> }, suffix?: string): Promise<number> => {
  const { values } = await metric.get();
  return values.filter((v) => suffix === undefined || v.metricName?.endsWith(suffix)).reduce((total, v) => total + v.value, 0);
};

export const startEmfPublisher = (options: EmfOptions): EmfPublisher => {
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const now = options.now ?? Date.now;
  const { metrics } = options;
  let last = { applied: 0, parked: 0, latencySum: 0, latencyCount: 0 };

  const flush = async (): Promise<void> => {
    const current = {
      applied: await sumOf(metrics.eventsApplied),
      parked: await sumOf(metrics.parked),
      latencySum: await sumOf(metrics.eventLatency, '_sum'),
      latencyCount: await sumOf(metrics.eventLatency, '_count'),
    };
    const lag = await sumOf(metrics.lag);
    const latencyCount = current.latencyCount - last.latencyCount;
    const durations = options.batchWriteDurations();
    const values = {
      ProjectorLagPositions: lag,
      ProjectorLagSeconds: latencyCount > 0 ? (current.latencySum - last.latencySum) / latencyCount : 0,
      ProjectorBatchLatencyMs: durations.length > 0 ? durations.reduce((a, b) => a + b, 0) / durations.length : 0,
      ProjectorEventsApplied: current.applied - last.applied,
      ProjectorParkedEvents: current.parked - last.parked,
    };
    last = current;
    const units: Record<keyof typeof values, string> = {
      ProjectorLagPositions: 'None',
      ProjectorLagSeconds: 'Seconds',
      ProjectorBatchLatencyMs: 'Milliseconds',
      ProjectorEventsApplied: 'Count',
      ProjectorParkedEvents: 'Count',
    };
    const line = {
      _aws: {
        Timestamp: now(),
        CloudWatchMetrics: [
          {
            Namespace: NAMESPACE,
            Dimensions: [['Stage']],
            Metrics: Object.entries(units).map(([Name, Unit]) => ({ Name, Unit })),
          },
        ],
      },
      Stage: options.stage,
      ...values,
    };
    write(`${JSON.stringify(line)}\n`);
  };

  const timer = setInterval(() => void flush().catch(() => undefined), options.intervalMs);
  timer.unref();
  return {
    flush,
    async stop() {
      clearInterval(timer);
      await flush();
    },
  };
};

/** A read-model writer wrapper that records how long each batch write took, for the EMF line. */
export const timeBatchWrites = <W extends { applyBatch(...args: never[]): Promise<unknown> }>(
  writer: W,
  now: () => number = () => performance.now(),
): { writer: W; drain: () => number[] } => {
  let durations: number[] = [];
  const applyBatch = async (...args: Parameters<W['applyBatch']>): Promise<Awaited<ReturnType<W['applyBatch']>>> => {
    const started = now();
    try {
      return (await writer.applyBatch(...args)) as Awaited<ReturnType<W['applyBatch']>>;
    } finally {
      durations.push(now() - started);
    }
  };
  return {
    writer: overrideApplyBatch(writer, applyBatch as W['applyBatch']),
    drain: () => {
      const drained = durations;
      durations = [];
      return drained;
    },
  };
};
