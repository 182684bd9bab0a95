import { describe, expectTypeOf, it } from 'vitest';
import type { UserCommand, UserCommandType } from '#domain/userCommands';
import type { UserEvent, UserEventType } from '#domain/userEvents';
import { CURRENT_SCHEMA_VERSION } from '#domain/userEvents';
import type { ReadModelChange } from '#ports/readModels';
import { projectUserEvent } from '#application/userProjection';

describe('event and command types', () => {
  it('names every event type once', () => {
    expectTypeOf<UserEventType>().toEqualTypeOf<'UserRegistered' | 'EmailChanged' | 'EmailVerified' | 'UserSuspended' | 'UserReactivated' | 'UserErased'>();
  });

  it('narrows event data by type', () => {
    expectTypeOf<Extract<UserEvent, { type: 'EmailChanged' }>['data']['verified']>().toEqualTypeOf<boolean>();
  });

  it('names every command type once', () => {
    expectTypeOf<UserCommandType>().toEqualTypeOf<'RegisterUser' | 'ChangeEmail' | 'VerifyEmail' | 'SuspendUser' | 'ReactivateUser' | 'EraseUser'>();
  });

  it('carries time in command metadata', () => {
    expectTypeOf<UserCommand['metadata']['now']>().toEqualTypeOf<Date>();
  });

  it('has a current schema version for every event type', () => {
    expectTypeOf(CURRENT_SCHEMA_VERSION).toHaveProperty('EmailChanged').toEqualTypeOf<2>();
  });

  it('projects events to read-model changes', () => {
    expectTypeOf(projectUserEvent).parameter(0).toEqualTypeOf<UserEvent>();
    expectTypeOf(projectUserEvent).returns.toEqualTypeOf<ReadModelChange[]>();
  });
});
