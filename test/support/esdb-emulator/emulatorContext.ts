import type { EventLog } from './eventLog.ts';
import type { FaultPlan } from './faults.ts';

/** What every service of the emulator shares. */
export interface EmulatorContext {
  readonly log: EventLog;
  readonly faults: FaultPlan;
  /** The server's default MaxAppendSize (1 MiB): larger appends are refused. */
  readonly maxAppendSize: number;
}
