import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isChronicleError } from '#domain/errors';
import { userDecider, type UserCommand } from '#domain/userCommands';
import type { UserEvent, UserEventType } from '#domain/userEvents';
import { isErased, isRegistered, type UserState } from '#domain/userState';
import { checkProperty } from './propertyRun.ts';

const userId = '3b0f8a52-64c1-4f0e-8d7c-5f3c2b1a9e01';

/** Raw inputs with what a careful reader expects of them: the stored form, or null when invalid. */
const EMAILS = [
  { raw: 'ada@example.com', stored: 'ada@example.com' },
  { raw: '  ADA@Example.com ', stored: 'ada@example.com' },
  { raw: 'bob@example.org', stored: 'bob@example.org' },
  { raw: 'carol@mail.example.net', stored: 'carol@mail.example.net' },
  { raw: 'not-an-email', stored: null },
  { raw: '   ', stored: null },
  { raw: `${'a'.repeat(250)}@example.com`, stored: null },
] as const;
const NAMES = [
  { raw: 'Ada', stored: 'Ada' },
  { raw: '  Grace Hopper ', stored: 'Grace Hopper' },
  { raw: '', stored: null },
  { raw: 'x'.repeat(101), stored: null },
] as const;
const REASONS = [
  { raw: 'spam', stored: 'spam' },
  { raw: ' terms of service ', stored: 'terms of service' },
  { raw: ' ', stored: null },
  { raw: 'r'.repeat(501), stored: null },
] as const;

type Intent =
  | { readonly type: 'RegisterUser'; readonly email: number; readonly name: number }
  | { readonly type: 'ChangeEmail'; readonly email: number }
  | { readonly type: 'VerifyEmail'; readonly email: number }
  | { readonly type: 'SuspendUser'; readonly reason: number }
  | { readonly type: 'ReactivateUser' }
  | { readonly type: 'EraseUser' };

const intentArbitrary: fc.Arbitrary<Intent> = fc.oneof(
  fc.record({ type: fc.constant('RegisterUser' as const), email: fc.nat(EMAILS.length - 1), name: fc.nat(NAMES.length - 1) }),
  fc.record({ type: fc.constant('ChangeEmail' as const), email: fc.nat(EMAILS.length - 1) }),
  fc.record({ type: fc.constant('VerifyEmail' as const), email: fc.nat(EMAILS.length - 1) }),
  fc.record({ type: fc.constant('SuspendUser' as const), reason: fc.nat(REASONS.length - 1) }),
  fc.record({ type: fc.constant('ReactivateUser' as const) }),
  fc.record({ type: fc.constant('EraseUser' as const) }),
);

const commandOf = (intent: Intent, now: Date): UserCommand => {
  const metadata = { now };
  switch (intent.type) {
    case 'RegisterUser':
      return { type: intent.type, data: { userId, email: EMAILS[intent.email]!.raw, displayName: NAMES[intent.name]!.raw }, metadata };
    case 'ChangeEmail':
    case 'VerifyEmail':
      return { type: intent.type, data: { userId, email: EMAILS[intent.email]!.raw }, metadata };
    case 'SuspendUser':
      return { type: intent.type, data: { userId, reason: REASONS[intent.reason]!.raw }, metadata };
    case 'ReactivateUser':
    case 'EraseUser':
      return { type: intent.type, data: { userId }, metadata };
  }
};

/** An independent model of the user's state machine, written from the README's rules, not from the decider. */
type Model =
  | { readonly registered: false; readonly erased: boolean }
  | { readonly registered: true; readonly suspended: boolean; readonly email: string; readonly verified: boolean; readonly displayName: string };

/** `event` null: accepted with nothing to record (erasing an erased user). */
type Prediction = { readonly code: string } | { readonly next: Model; readonly event: UserEventType | null };

const ERASED: Model = { registered: false, erased: true };

/** Values are judged before the state (bad input is a 400 whatever the user's state), then the rules. */
const predict = (model: Model, intent: Intent): Prediction => {
  switch (intent.type) {
    case 'RegisterUser': {
      const email = EMAILS[intent.email]!.stored;
      const displayName = NAMES[intent.name]!.stored;
      if (email === null || displayName === null) return { code: 'VALIDATION_FAILED' };
      if (!model.registered && model.erased) return { code: 'USER_ERASED' };
      if (model.registered) return { code: 'USER_ALREADY_REGISTERED' };
      return { next: { registered: true, suspended: false, email, verified: false, displayName }, event: 'UserRegistered' };
    }
    case 'ChangeEmail': {
      const email = EMAILS[intent.email]!.stored;
      if (email === null) return { code: 'VALIDATION_FAILED' };
      if (!model.registered) return { code: model.erased ? 'USER_ERASED' : 'USER_NOT_FOUND' };
      if (model.suspended) return { code: 'USER_SUSPENDED' };
      if (email === model.email) return { code: 'EMAIL_UNCHANGED' };
      return { next: { ...model, email, verified: false }, event: 'EmailChanged' };
    }
    case 'VerifyEmail': {
      const email = EMAILS[intent.email]!.stored;
      if (email === null) return { code: 'VALIDATION_FAILED' };
      if (!model.registered) return { code: model.erased ? 'USER_ERASED' : 'USER_NOT_FOUND' };
      if (model.suspended) return { code: 'USER_SUSPENDED' };
      if (email !== model.email) return { code: 'EMAIL_NOT_CURRENT' };
      if (model.verified) return { code: 'EMAIL_ALREADY_VERIFIED' };
      return { next: { ...model, verified: true }, event: 'EmailVerified' };
    }
    case 'SuspendUser':
      if (REASONS[intent.reason]!.stored === null) return { code: 'VALIDATION_FAILED' };
      if (!model.registered) return { code: model.erased ? 'USER_ERASED' : 'USER_NOT_FOUND' };
      if (model.suspended) return { code: 'USER_ALREADY_SUSPENDED' };
      return { next: { ...model, suspended: true }, event: 'UserSuspended' };
    case 'ReactivateUser':
      if (!model.registered) return { code: model.erased ? 'USER_ERASED' : 'USER_NOT_FOUND' };
      if (!model.suspended) return { code: 'USER_NOT_SUSPENDED' };
      return { next: { ...model, suspended: false }, event: 'UserReactivated' };
    case 'EraseUser':
      // Erasing again is accepted and records nothing (the application finishes a half-done erasure).
      if (!model.registered) return model.erased ? { next: ERASED, event: null } : { code: 'USER_NOT_FOUND' };
      return { next: ERASED, event: 'UserErased' };
  }
};

const modelOfState = (state: UserState): Model =>
  isRegistered(state)
    ? { registered: true, suspended: state.status === 'suspended', email: state.email, verified: state.emailVerified, displayName: state.displayName }
    : { registered: false, erased: isErased(state) };

const decide = (command: UserCommand, state: UserState): { readonly events: UserEvent[] } | { readonly code: string } => {
  try {
    return { events: userDecider.decide(command, state) };
  } catch (error) {
    if (!isChronicleError(error)) throw error;
    return { code: error.code };
  }
};

const START = Date.UTC(2026, 0, 1);

describe('the user decider, for any sequence of commands', () => {
  it('accepts and refuses exactly as the state machine says, with valid events, one per accepted command', () => {
    checkProperty(
      fc.property(fc.array(fc.tuple(intentArbitrary, fc.nat(86_400_000)), { maxLength: 40 }), (steps) => {
        let history: UserEvent[] = [];
        let model: Model = { registered: false, erased: false };
        let clock = START;
        for (const [intent, elapsed] of steps) {
          clock += elapsed;
          const now = new Date(clock);
          const state = history.reduce(userDecider.evolve, userDecider.initialState());
          const prediction = predict(model, intent);
          const outcome = decide(commandOf(intent, now), state);
          if ('code' in prediction) {
            expect(outcome).toEqual({ code: prediction.code });
            continue;
          }
          // One event per accepted command (the stream's revision grows by exactly one), none
          // only for erasing an erased user.
          expect(outcome).toHaveProperty('events');
          const events = 'events' in outcome ? outcome.events : [];
          expect(events.map((event) => event.type)).toEqual(prediction.event === null ? [] : [prediction.event]);
          const [event] = events;
          if (event === undefined) continue;
          expect(event.data.userId).toBe(userId);
          const at = Object.entries(event.data).find(([key]) => key.endsWith('At'))?.[1];
          expect(at).toBe(now.toISOString());
          history = [...history, event];
          model = prediction.next;
          expect(modelOfState(history.reduce(userDecider.evolve, userDecider.initialState()))).toEqual(model);
        }
      }),
      { file: import.meta.url, name: 'accepts and refuses exactly as the state machine says', numRuns: 400 },
    );
  });

  it('lets a suspended user change nothing but its suspension (or be erased)', () => {
    checkProperty(
      fc.property(fc.array(intentArbitrary, { maxLength: 30 }), fc.array(intentArbitrary, { minLength: 1, maxLength: 10 }), (before, whileSuspended) => {
        const now = new Date(START);
        const register: UserCommand = { type: 'RegisterUser', data: { userId, email: 'ada@example.com', displayName: 'Ada' }, metadata: { now } };
        let history: UserEvent[] = userDecider.decide(register, userDecider.initialState());
        const replay = (): UserState => history.reduce(userDecider.evolve, userDecider.initialState());
        // Any history short of erasure, then suspended.
        for (const intent of before.filter((candidate) => candidate.type !== 'EraseUser')) {
          const outcome = decide(commandOf(intent, now), replay());
          if ('events' in outcome) history = [...history, ...outcome.events];
        }
        if (replay().status !== 'suspended') {
          history = [...history, ...userDecider.decide({ type: 'SuspendUser', data: { userId, reason: 'spam' }, metadata: { now } }, replay())];
        }
        const suspended = replay();
        for (const intent of whileSuspended) {
          const outcome = decide(commandOf(intent, now), suspended);
          if (intent.type === 'ReactivateUser') {
            expect('events' in outcome && outcome.events.map((event) => event.type)).toEqual(['UserReactivated']);
            const after = ('events' in outcome ? outcome.events : []).reduce(userDecider.evolve, suspended);
            expect(after).toEqual({ ...suspended, status: 'active' });
          } else if (intent.type === 'EraseUser') {
            expect('events' in outcome && outcome.events.map((event) => event.type)).toEqual(['UserErased']);
          } else {
            expect(outcome).toHaveProperty('code');
          }
        }
      }),
      { file: import.meta.url, name: 'lets a suspended user change nothing but its suspension (or be erased)', numRuns: 300 },
    );
  });
});
