/*
 * What GetInfo reports beyond counts, as the server computes it: rates since the previous
 * measurement (each GetInfo/List is one), and — for groups created with extraStatistics — each
 * connection's latency measurements between sending an event and its ack, under the keys the
 * server uses (PersistentSubscriptionExtraStatistic: Mean, Median, Fastest, Quintile 1–5,
 * 90%…99.999%, Highest), in milliseconds.
 */

const LATENCY_WINDOW = 1000;

/** A count that is measured now and then: how many since the last time, and how fast. */
export class Rate {
  private measuredItems = 0;
  private measuredAt = Date.now();

  measure(totalItems: number, now = Date.now()): { readonly countSinceLastMeasurement: number; readonly averagePerSecond: number } {
    const count = totalItems - this.measuredItems;
    const seconds = (now - this.measuredAt) / 1000;
    this.measuredItems = totalItems;
    this.measuredAt = now;
    return { countSinceLastMeasurement: count, averagePerSecond: seconds > 0 ? Math.round(count / seconds) : 0 };
  }
}

/** The last acks' latencies of one connection. */
export class LatencyWindow {
  private readonly samples: number[] = [];

  add(milliseconds: number): void {
    this.samples.push(Math.max(0, Math.round(milliseconds)));
    if (this.samples.length > LATENCY_WINDOW) this.samples.shift();
  }

  /** Key → milliseconds, empty while nothing was acknowledged. */
  measurements(): (readonly [key: string, value: number])[] {
    if (this.samples.length === 0) return [];
    const sorted = [...this.samples].sort((a, b) => a - b);
    const at = (percent: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * percent) / 100))]!;
    const mean = Math.round(sorted.reduce((sum, value) => sum + value, 0) / sorted.length);
    return [
      ['Mean', mean],
      ['Median', at(50)],
      ['Fastest', sorted[0]!],
      ['Quintile 1', at(20)],
      ['Quintile 2', at(40)],
      ['Quintile 3', at(60)],
      ['Quintile 4', at(80)],
      ['Quintile 5', at(100)],
      ['90%', at(90)],
      ['95%', at(95)],
      ['99%', at(99)],
      ['99.5%', at(99.5)],
      ['99.9%', at(99.9)],
      ['99.99%', at(99.99)],
      ['99.999%', at(99.999)],
      ['Highest', sorted.at(-1)!],
    ];
  }
}
