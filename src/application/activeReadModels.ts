import type { ReadModelReader, ReadModelRegistry } from '#ports/readModels';

export interface ActiveReadModelsOptions {
  /** Read while no version was ever activated (a store that predates the registry). */
  readonly fallbackVersion: number;
  /** How long an answer of the registry is trusted (default 1 s): a switch reaches every reader within it. */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

export interface ActiveReadModelReader extends ReadModelReader {
  /** The version reads go to now. */
  activeVersion(): Promise<number>;
}

/**
 * The read models queries read, resolved through the registry: each read goes to the active
 * version, looked up at most once per `cacheMs`, so `read-models activate` switches every query
 * Lambda within a second with no redeploy. Activation refuses a lagging version, so a reader that
 * switches never steps back in time.
 */
export const createActiveReadModelReader = (
  registry: Pick<ReadModelRegistry, 'getActiveVersion' | 'readModels'>,
  options: ActiveReadModelsOptions,
): ActiveReadModelReader => {
  const cacheMs = options.cacheMs ?? 1_000;
  const now = options.now ?? Date.now;
  let cached: { version: number; until: number } | null = null;

  const activeVersion = async (): Promise<number> => {
    if (cached !== null && now() < cached.until) return cached.version;
    const version = (await registry.getActiveVersion()) ?? options.fallbackVersion;
    cached = { version, until: now() + cacheMs };
    return version;
  };
  const active = async () => registry.readModels(await activeVersion());

  return {
    activeVersion,
    getUser: async (userId) => (await active()).getUser(userId),
    listUsers: async (query) => (await active()).listUsers(query),
    countUsers: async (status) => (await active()).countUsers(status),
    findUserIdByEmail: async (email) => (await active()).findUserIdByEmail(email),
    getAppliedRevision: async (streamId) => (await active()).getAppliedRevision(streamId),
    getCheckpoint: async () => (await active()).getCheckpoint(),
    getHeldStream: async (streamId) => (await active()).getHeldStream(streamId),
    listHeldStreams: async (limit) => (await active()).listHeldStreams(limit),
    isUserErased: async (userId) => (await active()).isUserErased(userId),
  };
};
