import { ValidationError } from '#domain/errors';

/** Global positions are unsigned 64-bit: anything larger is no token this service issued. */
export const MAX_UINT64 = 2n ** 64n - 1n;

/** A consistency token (a global position) from a header or the query string. */
export const parseConsistencyToken = (raw: string | undefined, path: string): bigint | undefined => {
  const text = raw?.trim();
  if (text === undefined || text === '') return undefined;
  const token = /^\d{1,20}$/.test(text) ? BigInt(text) : null;
  if (token === null || token > MAX_UINT64)
    throw new ValidationError(`${path} must be a consistency token from a command's answer`, [{ path, message: 'must be a decimal 64-bit position' }]);
  return token;
};

/** The position a query must include: the X-Consistency-Token header, else `?consistentWith=`. */
export const consistencyTokenOf = (request: {
  header(name: string): string | undefined;
  readonly query: { readonly consistentWith?: string | undefined };
}): bigint | undefined =>
  parseConsistencyToken(request.header('x-consistency-token'), 'X-Consistency-Token') ??
  parseConsistencyToken(request.query.consistentWith, 'consistentWith');
