import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EventStoreDBClient } from '@eventstore/db-client';

export type { EventStoreDBClient } from '@eventstore/db-client';

/**
 * Keepalive defaults that notice a dead connection soon after a Lambda thaws (grpc-node #2285).
 * While a container is frozen its timers stop; on thaw the overdue keepalive timer fires, and
 * the first call on an idle transport pings at once, so a connection that died during the
 * freeze is detected within `keepAliveTimeout`: the call fails UNAVAILABLE, the client opens a
 * new channel and our bounded retry succeeds on it. The interval stays at the 10 s the client
 * recommends (it warns below that); the timeout is half the client's default so the first
 * request after a thaw waits seconds, not tens of seconds.
 */
export const KEEPALIVE_DEFAULTS = Object.freeze({ keepAliveInterval: 10_000, keepAliveTimeout: 5_000 });

// @eventstore/db-client 6.x only parses esdb:// and esdb+discover://; config.ts also accepts
// the KurrentDB spellings, which mean the same thing.
const KURRENT_PROTOCOL = /^\s*(?:kurrentdb|kdb)(\+discover)?:\/\//i;

/** The client's key matching: case-insensitive, ignoring `-` and `_`. */
const flatKey = (key: string): string => key.trim().toLowerCase().replace(/[-_]/g, '');

/**
 * The connection string the client receives: KurrentDB protocol names mapped to esdb, and the
 * keepalive settings added unless the string sets them. TLS stays as the string says (on unless
 * `tls=false`), as does everything else.
 */
export const withConnectionDefaults = (connectionString: string): string => {
  const normalised = connectionString.trim().replace(/\/+$/, '').replace(KURRENT_PROTOCOL, (_match, discover: string | undefined) => `esdb${discover ?? ''}://`);
  const queryStart = normalised.indexOf('?');
  const present = new Set(
    queryStart < 0
      ? []
      : normalised
          .slice(queryStart + 1)
          .split('&')
          .map((pair) => flatKey(pair.split('=')[0] ?? '')),
  );
  const additions = Object.entries(KEEPALIVE_DEFAULTS)
    .filter(([key]) => !present.has(flatKey(key)))
    .map(([key, value]) => `${key}=${value}`);
  if (additions.length === 0) return normalised;
  return `${normalised}${queryStart < 0 ? '?' : '&'}${additions.join('&')}`;
};

/**
 * One client per container: call this at module scope so warm Lambdas reuse its channel.
 * Single node: `esdb://host:2113?tls=false`; cluster: `esdb+discover://host:2113` (gossip
 * picks the leader). Nothing connects until the first request.
 */
export const createEventStoreDBClient = (connectionString: string, options: { readonly caCertPem?: string } = {}): EventStoreDBClient =>
  EventStoreDBClient.connectionString(withCaFile(withConnectionDefaults(connectionString), options.caCertPem));

/**
 * The client reads a CA only from a file named by `tlsCAFile`. A deployment holds the PEM in
 * Secrets Manager (never in the image), so it is written once under the temporary directory
 * (Lambda's /tmp; the projector task mounts a scratch volume there, its root filesystem being
 * read-only) and named in the connection string, unless the string names a file already.
 */
const withCaFile = (connectionString: string, caCertPem: string | undefined): string => {
  if (caCertPem === undefined || /[?&]tls_?ca_?file=/i.test(connectionString)) return connectionString;
  const file = path.join(tmpdir(), `eventstoredb-ca-${createHash('sha256').update(caCertPem).digest('hex').slice(0, 16)}.pem`);
  writeFileSync(file, caCertPem, { mode: 0o600 });
  return `${connectionString}${connectionString.includes('?') ? '&' : '?'}tlsCAFile=${encodeURIComponent(file)}`;
};

/**
 * Cancels the client's open calls (subscriptions, batch appends). For tests and the projector's
 * shutdown; Lambdas keep their client for the container's lifetime. The idle channel left
 * behind holds no reference that keeps the process alive.
 */
export const closeEventStoreDBClient = (client: EventStoreDBClient): Promise<void> => client.dispose();
