import type { MiddlewareObj, Request } from '@middy/core';
import { UnauthenticatedError } from '#domain/errors';
import type { TokenVerifier } from '#ports/tokenVerifier';
import { headerOf, type HttpEvent, type HttpResponse } from './httpEvent.ts';

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*)$/i;
// Far above any real JWT; a bigger header is refused before anything parses it.
const MAX_TOKEN_LENGTH = 8_192;

/**
 * Verifies the bearer token itself, in every configuration. API Gateway's JWT authorizer
 * rejects bad tokens first on AWS, but the Lambda never trusts claims it did not check:
 * serverless-offline passes any token's claims through unverified, and a route deployed
 * without the authorizer must not become open. `optional`: a route anyone may call that
 * shows more to a verified caller (GET /health); a bad token there is simply ignored.
 */
export const authentication = (verifier: TokenVerifier, options: { readonly optional?: boolean } = {}): MiddlewareObj<HttpEvent, HttpResponse> => {
  const authenticationBefore = async (request: Request<HttpEvent, HttpResponse>): Promise<void> => {
    const header = headerOf(request.event, 'authorization')?.trim();
    if (header === undefined || header === '') {
      if (options.optional) return;
      throw new UnauthenticatedError('missing');
    }
    const token = header.length <= MAX_TOKEN_LENGTH ? BEARER.exec(header)?.[1] : undefined;
    try {
      if (token === undefined) throw new UnauthenticatedError('invalid_token');
      request.event.principal = await verifier.verify(token);
    } catch (error) {
      if (!options.optional) throw error;
    }
  };
  return { before: authenticationBefore };
};
