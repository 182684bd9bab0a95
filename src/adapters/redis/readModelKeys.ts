import { ValidationError } from '#domain/errors';
import type { UserStatus } from '#domain/userState';

/**
 * The key layout of one read-model version (README.md in this folder). The apply-batch script
 * builds the same names from the prefix; keep the two in step.
 */
export interface ReadModelKeys {
  readonly prefix: string;
  user(userId: string): string;
  /** Set of user ids with this status (`users:active` is the product brief's `active_users`). */
  statusSet(status: UserStatus): string;
  /**
   * Sorted set of the order keys of the users with this status, all scored 0 so that members
   * sort (and page) lexicographically. Listing every user merges the per-status sets.
   */
  statusRegistrationOrder(status: UserStatus): string;
  readonly emailIndex: string;
  readonly emailClaimedAt: string;
  /** Set of the ids of erased users (nothing else of them is kept). */
  readonly erased: string;
  readonly applied: string;
  readonly checkpoint: string;
  /** Hash: stream id → JSON { revision, reason, heldAt } of a stream held behind a parked event. */
  readonly heldStreams: string;
}

export const readModelKeys = (version: number): ReadModelKeys => {
  if (!Number.isSafeInteger(version) || version < 1) throw new ValidationError(`read-model version must be a positive whole number, got ${version}`);
  const prefix = `rm:v${version}:`;
  return {
    prefix,
    user: (userId) => `${prefix}user:${userId}`,
    statusSet: (status) => `${prefix}users:${status}`,
    statusRegistrationOrder: (status) => `${prefix}users:${status}:by-registration`,
    emailIndex: `${prefix}users:by-email`,
    /** Address → log position of the claim in emailIndex (written by the apply-batch script). */
    emailClaimedAt: `${prefix}users:by-email:at`,
    erased: `${prefix}users:erased`,
    applied: `${prefix}applied`,
    checkpoint: `${prefix}checkpoint`,
    heldStreams: `${prefix}held-streams`,
  };
};

/**
 * The version registry, beside (not under) the versions' own prefixes: `rm:versions` is a hash
 * of version → JSON record, `rm:active` the version queries read. Neither matches `rm:v<N>:*`,
 * so dropping a version never touches them. `namespace` exists for tests sharing one server.
 */
export const registryKeys = (namespace = 'rm:') =>
  ({
    versions: `${namespace}versions`,
    active: `${namespace}active`,
    /** Held (SET NX PX, renewed) by the one process filling a building version from the log. */
    buildLease: (version: number): string => `${namespace}build-lease:v${version}`,
  }) as const;

/** SCAN pattern for every key of one version. */
export const versionKeyPattern = (version: number): string => `${readModelKeys(version).prefix}*`;
