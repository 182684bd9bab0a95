/**
 * Who is calling: a verified token's issuer and subject, with what the token grants. The
 * domain never sees tokens; the application sees only this.
 */
export interface Principal {
  readonly issuer: string;
  readonly subject: string;
  readonly scopes: ReadonlySet<string>;
  readonly isAdmin: boolean;
  /** Holds the scope of a mail service that proves mailboxes itself. */
  readonly isEmailVerifier: boolean;
  /** The identity provider's `email` claim, when it also says `email_verified: true`: a proven mailbox (canonical form). */
  readonly verifiedEmail?: string;
}

/**
 * Turns a bearer token into the principal it proves, or throws UnauthenticatedError
 * ('invalid_token') whatever the reason: bad signature, wrong issuer or audience, expired.
 */
export interface TokenVerifier {
  verify(token: string): Promise<Principal>;
}
