import { expect } from 'vitest';
import { isChronicleError } from '#domain/errors';
import type { Decider } from '#domain/decider';

/**
 * given(events).when(command).then(events) | .thenThrows(code): a decider's behaviour stated
 * as facts in, intent, facts out.
 */
export const deciderSpecification = <Command, Event, State>(decider: Decider<Command, Event, State>) => ({
  given: (history: readonly Event[]) => ({
    when: (command: Command) => {
      const run = (): Event[] => decider.decide(command, history.reduce(decider.evolve, decider.initialState()));
      return {
        then: (expected: readonly Event[]): void => {
          expect(run()).toEqual(expected);
        },
        thenThrows: (code: string): void => {
          let caught: unknown;
          try {
            run();
          } catch (error) {
            caught = error;
          }
          expect(caught, 'expected the command to be rejected').toBeDefined();
          expect(isChronicleError(caught) ? caught.code : caught).toBe(code);
        },
      };
    },
  }),
});
