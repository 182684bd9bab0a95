/**
 * One error family for every outcome a caller must handle. `kind` decides the HTTP status
 * (src/http/errorMapping.ts); `code` is the stable, machine-readable name.
 */
export type ErrorKind =
  | 'validation'
  | 'unauthenticated'
  | 'forbidden'
  | 'not_found'
  | 'gone'
  | 'method_not_allowed'
  | 'rule_violated'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unprocessable'
  | 'unavailable';

export class ChronicleError extends Error {
  readonly kind: ErrorKind;
  readonly code: string;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(kind: ErrorKind, code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.kind = kind;
    this.code = code;
    this.details = details;
  }
}

export interface ValidationIssue {
  readonly path: string;
  readonly message: string;
}

export class ValidationError extends ChronicleError {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = []) {
    super('validation', 'VALIDATION_FAILED', message, issues.length > 0 ? { issues } : undefined);
    this.issues = issues;
  }
}

export class NotFoundError extends ChronicleError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('not_found', code, message, details);
  }
}

/** The thing existed and was deliberately removed for good (an erased user): never coming back. */
export class GoneError extends ChronicleError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('gone', code, message, details);
  }
}

/** A business rule refused the command: the request was well formed but not allowed now. */
export class RuleViolatedError extends ChronicleError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super('rule_violated', code, message, details);
  }
}

/**
 * No valid bearer token. The message never says which check failed: `reason` follows RFC 6750
 * (`missing`: no credentials at all, `invalid_token`: anything wrong with the one given).
 */
export class UnauthenticatedError extends ChronicleError {
  readonly reason: 'missing' | 'invalid_token';
  constructor(reason: 'missing' | 'invalid_token') {
    super('unauthenticated', 'UNAUTHENTICATED', reason === 'missing' ? 'a bearer token is required' : 'the bearer token is not valid');
    this.reason = reason;
  }
}

/** An authenticated caller asked for something its role does not allow. */
export class ForbiddenError extends ChronicleError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('forbidden', 'FORBIDDEN', message, details);
  }
}

/** The same Idempotency-Key came back with a different request: nothing is written, nothing replayed. */
export class IdempotencyKeyReusedError extends ChronicleError {
  constructor() {
    super('unprocessable', 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was already used for a different request', {
      issues: [{ path: 'Idempotency-Key', message: 'already used for a different request' }],
    });
  }
}

/** The stream moved on between read and append (optimistic concurrency). */
export class ConcurrencyError extends ChronicleError {
  readonly streamId: string;
  readonly expectedRevision: string;
  readonly actualRevision: string;
  constructor(streamId: string, expectedRevision: string, actualRevision: string) {
    // Stream names stay out of the message and details: they reach callers (README § Errors).
    super('conflict', 'CONCURRENCY_CONFLICT', 'a concurrent change was written first; read again and retry');
    this.streamId = streamId;
    this.expectedRevision = expectedRevision;
    this.actualRevision = actualRevision;
  }
}

/** The caller pinned a revision with If-Match and the stream is elsewhere. */
export class PreconditionFailedError extends ChronicleError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('precondition_failed', 'PRECONDITION_FAILED', message, details);
  }
}

/** A store could not be reached; the caller may retry. Never means "wrote half". */
export class UnavailableError extends ChronicleError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('unavailable', 'STORE_UNAVAILABLE', message, details);
  }
}

/**
 * A stored event this code cannot read: malformed, of an unknown type, or written by a newer
 * version. Never the caller's fault, so deliberately outside ChronicleError: HTTP answers the
 * generic 500 and logs the details instead of blaming the request; the projector parks it.
 */
export class MalformedEventError extends Error {
  readonly issues: readonly ValidationIssue[];
  constructor(message: string, issues: readonly ValidationIssue[] = []) {
    super(message);
    this.name = 'MalformedEventError';
    this.issues = issues;
  }
}

export const isUnauthenticatedError = (e: unknown): e is UnauthenticatedError => e instanceof UnauthenticatedError;
export const isForbiddenError = (e: unknown): e is ForbiddenError => e instanceof ForbiddenError;
export const isIdempotencyKeyReusedError = (e: unknown): e is IdempotencyKeyReusedError => e instanceof IdempotencyKeyReusedError;
/**
 * A stored event written by a newer version of Chronicle than this code (a rolling deploy where
 * new Lambdas write before the new projector runs). Not poison: newer code will read it, so a
 * projector waits for that code instead of parking it.
 */
export class NewerSchemaVersionError extends MalformedEventError {
  constructor(message: string, issues: readonly ValidationIssue[] = []) {
    super(message, issues);
    this.name = 'NewerSchemaVersionError';
  }
}

export const isNewerSchemaVersionError = (e: unknown): e is NewerSchemaVersionError => e instanceof NewerSchemaVersionError;
export const isChronicleError = (e: unknown): e is ChronicleError => e instanceof ChronicleError;
export const isValidationError = (e: unknown): e is ValidationError => e instanceof ValidationError;
export const isNotFoundError = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
export const isGoneError = (e: unknown): e is GoneError => e instanceof GoneError;
export const isRuleViolatedError = (e: unknown): e is RuleViolatedError => e instanceof RuleViolatedError;
export const isConcurrencyError = (e: unknown): e is ConcurrencyError => e instanceof ConcurrencyError;
export const isPreconditionFailedError = (e: unknown): e is PreconditionFailedError => e instanceof PreconditionFailedError;
export const isMalformedEventError = (e: unknown): e is MalformedEventError => e instanceof MalformedEventError;
export const isUnavailableError = (e: unknown): e is UnavailableError => e instanceof UnavailableError;
