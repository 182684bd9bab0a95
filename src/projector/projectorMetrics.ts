import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The projector's Prometheus metrics, in a registry of its own (not prom-client's global one),
 * so several projectors in one process (tests) do not collide.
 */
export interface ProjectorMetrics {
  readonly registry: Registry;
  readonly eventsApplied: Counter;
  readonly batches: Counter;
  readonly batchSize: Histogram;
  /** Seconds from the event's time in the log to the read-model write that applied it. */
  readonly eventLatency: Histogram;
  /**
   * Head position of the log minus the checkpoint. On SQLite positions are consecutive, so this
   * counts the events behind; on EventStoreDB they are commit positions (bytes of its log).
   */
  readonly lag: Gauge;
  readonly retries: Counter;
  readonly parked: Counter;
  readonly duplicates: Counter;
  readonly gaps: Counter;
  readonly resubscriptions: Counter;
  readonly checkpoint: Gauge;
}

export const createProjectorMetrics = (): ProjectorMetrics => {
  const registry = new Registry();
  const registers = [registry];
  return {
    registry,
    eventsApplied: new Counter({ name: 'chronicle_projector_events_applied_total', help: 'Events whose changes were written to the read models', registers }),
    batches: new Counter({ name: 'chronicle_projector_batches_total', help: 'Batches written to the read models', registers }),
    batchSize: new Histogram({
      name: 'chronicle_projector_batch_size',
      help: 'Events per batch written',
      buckets: [1, 10, 50, 100, 250, 500, 1000, 2500, 5000, 10_000],
      registers,
    }),
    eventLatency: new Histogram({
      name: 'chronicle_projector_event_latency_seconds',
      help: 'Time from the event being recorded in the log to its read-model write',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    }),
    lag: new Gauge({
      name: 'chronicle_projector_lag_positions',
      help: 'Head position of the log minus the checkpoint (events on SQLite, commit-position bytes on EventStoreDB)',
      registers,
    }),
    retries: new Counter({ name: 'chronicle_projector_retries_total', help: 'Read-model writes retried after a transient failure', registers }),
    parked: new Counter({ name: 'chronicle_projector_parked_events_total', help: 'Events parked (poison, or a gap that never closed)', registers }),
    duplicates: new Counter({ name: 'chronicle_projector_duplicate_events_total', help: 'Events already applied (redelivered), acknowledged without effect', registers }),
    gaps: new Counter({ name: 'chronicle_projector_gap_events_total', help: 'Events that arrived before their predecessor, sent back for retry', registers }),
    resubscriptions: new Counter({ name: 'chronicle_projector_resubscriptions_total', help: 'Subscriptions re-opened after a dropped connection', registers }),
    checkpoint: new Gauge({ name: 'chronicle_projector_checkpoint', help: 'Last checkpoint written (global log position)', registers }),
  };
};
