import { v5 as uuidv5 } from 'uuid';
import type { Principal } from '#ports/tokenVerifier';

export type { Principal } from '#ports/tokenVerifier';

/** What event metadata records about who did something: the identity, never an email. */
export interface Actor {
  readonly issuer: string;
  readonly subject: string;
}

export const actorOf = (principal: Principal): Actor => ({ issuer: principal.issuer, subject: principal.subject });

// Fixed forever: changing it would give every self-registered identity a new account id.
const PRINCIPAL_NAMESPACE = 'b3c1f3a4-8d0e-5c55-9f1e-6a2f7d9e4c10';

/**
 * The account id of a self-registered identity. Derived, so ownership is a pure comparison
 * (no lookup), one identity has one account, and a retried registration lands on the same one.
 * Issuer and subject are joined by a character no URL or subject of ours contains unescaped.
 */
export const userIdOfPrincipal = (principal: Pick<Principal, 'issuer' | 'subject'>): string =>
  uuidv5(`${principal.issuer}\n${principal.subject}`, PRINCIPAL_NAMESPACE);

/** A caller-scoped name for a key the caller chose (Idempotency-Key): two callers' keys never meet. */
export const callerScopedKey = (principal: Pick<Principal, 'issuer' | 'subject'>, key: string): string =>
  uuidv5(`${principal.issuer}\n${principal.subject}\n${key}`, PRINCIPAL_NAMESPACE);
