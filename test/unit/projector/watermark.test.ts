import { describe, expect, it } from 'vitest';
import { createWatermark, type WatermarkEvent } from '#projector/watermark';

const at = (position: bigint, streamId = `user-${position}`, revision = 0n): WatermarkEvent => ({ streamId, revision, position });

describe('the checkpoint watermark', () => {
  it('is null until something is resolved', () => {
    const watermark = createWatermark();
    watermark.received(at(5n));
    expect(watermark.current()).toBeNull();
  });

  it('follows resolved events in order', () => {
    const watermark = createWatermark();
    for (const p of [1n, 2n, 3n]) watermark.received(at(p));
    watermark.resolve(1n);
    watermark.resolve(2n);
    expect(watermark.current()).toBe(2n);
  });

  it('stays below a received event that is not resolved yet', () => {
    const watermark = createWatermark();
    for (const p of [1n, 2n, 3n, 4n]) watermark.received(at(p));
    for (const p of [1n, 3n, 4n]) watermark.resolve(p);
    expect(watermark.current()).toBe(1n);
    watermark.resolve(2n);
    expect(watermark.current()).toBe(4n);
  });

  it('answers what it would be if some positions were resolved, without recording them', () => {
    const watermark = createWatermark();
    for (const p of [10n, 20n, 30n]) watermark.received(at(p));
    watermark.resolve(10n);
    expect(watermark.current(new Set([20n]))).toBe(20n);
    expect(watermark.current()).toBe(10n);
  });

  it('counts resolved events behind assumed ones when answering what it would be', () => {
    const watermark = createWatermark();
    for (const p of [1n, 2n, 3n, 4n]) watermark.received(at(p));
    watermark.resolve(2n);
    watermark.resolve(4n);
    expect(watermark.current(new Set([1n, 3n]))).toBe(4n);
    expect(watermark.current(new Set([1n]))).toBe(2n);
    expect(watermark.current()).toBeNull();
  });

  it('keeps up with a long run without being asked in between', () => {
    const watermark = createWatermark();
    for (let p = 1n; p <= 50_000n; p++) {
      watermark.received(at(p));
      watermark.resolve(p);
      if (p % 1000n === 0n) expect(watermark.current(new Set([p + 1n]))).toBe(p);
    }
    watermark.received(at(50_002n));
    watermark.received(at(50_001n));
    watermark.resolve(50_002n);
    expect(watermark.current()).toBe(50_000n);
    watermark.resolve(50_001n);
    expect(watermark.current()).toBe(50_002n);
  });

  it('never moves back', () => {
    const watermark = createWatermark();
    watermark.received(at(5n));
    watermark.resolve(5n);
    expect(watermark.current()).toBe(5n);
    watermark.received(at(3n));
    expect(watermark.current()).toBe(5n);
  });

  it('keeps waiting for a pending event, and names it as what holds it back', () => {
    const watermark = createWatermark();
    watermark.received(at(1n, 'user-a', 4n));
    watermark.received(at(2n));
    watermark.resolve(2n);
    expect(watermark.current()).toBeNull();
    expect(watermark.blocking()).toEqual({ streamId: 'user-a', revision: 4n, position: 1n });
    watermark.resolve(1n);
    expect(watermark.current()).toBe(2n);
    expect(watermark.blocking()).toBeNull();
  });

  describe('when its subscription is gone', () => {
    it('stays below an orphan however far later events go, until it is resolved', () => {
      const watermark = createWatermark();
      for (const p of [1n, 2n, 3n]) watermark.received(at(p));
      watermark.resolve(1n);
      watermark.resolve(3n);
      watermark.orphanPending();
      for (const p of [4n, 5n]) {
        watermark.received(at(p));
        watermark.resolve(p);
      }
      expect(watermark.current()).toBe(1n);
      expect(watermark.current(new Set([6n]))).toBe(1n);
      expect(watermark.blocking()?.position).toBe(2n);
      watermark.resolve(2n);
      expect(watermark.current()).toBe(5n);
      expect(watermark.blocking()).toBeNull();
    });

    it('moves over orphans resolved after the new subscription delivered them again, with no newer event', () => {
      // Found by the convergence property: the last events of the log were in flight when the
      // connection dropped; redelivered and resolved, they held the checkpoint back until a
      // newer event arrived.
      const watermark = createWatermark();
      for (const p of [1n, 2n, 3n]) watermark.received(at(p));
      watermark.resolve(1n);
      watermark.orphanPending();
      for (const p of [3n, 2n]) watermark.received(at(p));
      watermark.resolve(3n);
      expect(watermark.current()).toBe(1n);
      watermark.resolve(2n);
      expect(watermark.current()).toBe(3n);
      expect(watermark.blocking()).toBeNull();
    });

    it('gives up only on orphans not delivered again', () => {
      const watermark = createWatermark();
      for (const p of [1n, 2n, 3n]) watermark.received(at(p));
      watermark.orphanPending();
      watermark.received(at(2n));
      expect(watermark.orphansAwaited()).toBe(2);
      watermark.received(at(4n));
      watermark.resolve(4n);
      expect(watermark.abandonOrphans()).toBe(2);
      expect(watermark.current()).toBe(1n);
      watermark.resolve(2n);
      expect(watermark.current()).toBe(4n);
    });
  });
});
