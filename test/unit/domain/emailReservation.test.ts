import { describe, it } from 'vitest';
import { emailReservationDecider, type EmailReservationCommand, type EmailReservationEvent } from '#domain/emailReservation';
import { deciderSpecification } from '#test/support/deciderSpecification';

const spec = deciderSpecification(emailReservationDecider);
const now = new Date('2026-11-27T10:00:00.000Z');
const at = now.toISOString();
const reserve = (userId: string, claim = `cmd-${userId}`, inUse = false): EmailReservationCommand => ({ type: 'ReserveEmail', data: { userId, claim, inUse }, metadata: { now } });
const takeOver = (userId: string, orphanedHolder: string): EmailReservationCommand => ({
  type: 'ReserveEmail',
  data: { userId, claim: `cmd-${userId}`, inUse: false, orphanedHolder },
  metadata: { now },
});
const release = (userId: string, claimSettled = true): EmailReservationCommand => ({ type: 'ReleaseEmail', data: { userId, claimSettled }, metadata: { now } });
const reservedBy = (userId: string, claim = `cmd-${userId}`): EmailReservationEvent => ({ type: 'EmailReserved', data: { userId, reservedAt: at, claim } });
const releasedBy = (userId: string): EmailReservationEvent => ({ type: 'EmailReleased', data: { userId, releasedAt: at } });

describe('email reservation', () => {
  describe('when free', () => {
    it('reserves for the first user, under the command’s claim', () => spec.given([]).when(reserve('u1')).then([reservedBy('u1')]));
    it('has nothing to release', () => spec.given([]).when(release('u1')).then([]));
  });

  describe('when held', () => {
    it('refuses another user', () => spec.given([reservedBy('u1')]).when(reserve('u2')).thenThrows('EMAIL_TAKEN'));
    it('is a no-op for the command that claimed it (a retry)', () => spec.given([reservedBy('u1')]).when(reserve('u1')).then([]));
    it('is a no-op when the user’s own stream holds the address', () => spec.given([reservedBy('u1', 'old')]).when(reserve('u1', 'new', true)).then([]));
    it('is claimed again by another in-flight command of the same user', () =>
      spec.given([reservedBy('u1', 'first')]).when(reserve('u1', 'second')).then([reservedBy('u1', 'second')]));
    it('is released by the holder once the claim is settled', () => spec.given([reservedBy('u1')]).when(release('u1')).then([releasedBy('u1')]));
    it('is kept while another command’s claim is not settled', () => spec.given([reservedBy('u1')]).when(release('u1', false)).then([]));
    it('is not released by someone else', () => spec.given([reservedBy('u1')]).when(release('u2')).then([]));
    it('is taken over from an orphaned holder, released first', () =>
      spec.given([reservedBy('u1')]).when(takeOver('u2', 'u1')).then([releasedBy('u1'), reservedBy('u2')]));
    it('is not taken over in the name of someone who does not hold it', () => spec.given([reservedBy('u1')]).when(takeOver('u2', 'u3')).thenThrows('EMAIL_TAKEN'));
  });

  describe('when released', () => {
    it('can be reserved by another user', () => spec.given([reservedBy('u1'), releasedBy('u1')]).when(reserve('u2')).then([reservedBy('u2')]));
  });
});
