import { MalformedEventError, NewerSchemaVersionError } from './errors.ts';

/**
 * Schema evolution by upcasting on read. Each upcaster turns one (type, version) into the next
 * version; a chain of them brings any stored event to the current shape. Stored events are
 * never rewritten. Registries are plain values so each reader (aggregate load, projector,
 * history) uses the same one.
 */
export type JsonObject = { [key: string]: unknown };

export interface VersionedEvent {
  readonly type: string;
  readonly schemaVersion: number;
  readonly data: JsonObject;
}

export type Upcaster = (data: JsonObject) => JsonObject;

export interface UpcasterRegistry {
  /** Brings `event` to `targetVersion` of its type, or throws when a step is missing. */
  upcast(event: VersionedEvent, targetVersion: number): VersionedEvent;
}

export const upcasterKey = (type: string, fromVersion: number): string => `${type}@${fromVersion}`;

export const createUpcasterRegistry = (upcasters: Readonly<Record<string, Upcaster>>): UpcasterRegistry => ({
  upcast(event, targetVersion) {
    let current = event;
    while (current.schemaVersion < targetVersion) {
      const step = upcasters[upcasterKey(current.type, current.schemaVersion)];
      if (step === undefined)
        throw new MalformedEventError(`no upcaster for ${current.type} v${current.schemaVersion}`, [
          { path: 'schemaVersion', message: `cannot bring ${current.type} from v${current.schemaVersion} to v${targetVersion}` },
        ]);
      current = { type: current.type, schemaVersion: current.schemaVersion + 1, data: step(current.data) };
    }
    if (current.schemaVersion > targetVersion)
      throw new NewerSchemaVersionError(`${current.type} v${current.schemaVersion} is newer than this code knows (v${targetVersion})`, [
        { path: 'schemaVersion', message: 'written by a newer version of Chronicle' },
      ]);
    return current;
  },
});

/** Chronicle's upcasters. v1 of EmailChanged predates verification tracking. */
export const userUpcasters = createUpcasterRegistry({
  [upcasterKey('EmailChanged', 1)]: (data) => ({ ...data, verified: false }),
});
