import type { MiddlewareObj, Request } from '@middy/core';
import { ChronicleError, ValidationError } from '#domain/errors';
import { firstDuplicateKey } from './duplicateJsonKeys.ts';
import { headerOf, type HttpEvent, type HttpResponse } from './httpEvent.ts';

export interface JsonBodyOptions {
  readonly maxBodyBytes: number;
  /** An empty body reads as `{}` (e.g. reactivation); otherwise a body is required. */
  readonly emptyBodyAllowed?: boolean;
}

const isJsonMediaType = (contentType: string | undefined): boolean => {
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase();
  return mediaType === 'application/json' || (mediaType !== undefined && /^application\/[a-z0-9.+-]+\+json$/.test(mediaType));
};

/** Size (413), media type (415) and syntax (400) of a JSON request body, in that order. */
export const jsonBody = (options: JsonBodyOptions): MiddlewareObj<HttpEvent, HttpResponse> => {
  const jsonBodyBefore = (request: Request<HttpEvent, HttpResponse>): void => {
    const { event } = request;
    const raw = event.body ?? '';
    const bytes = Buffer.byteLength(raw, event.isBase64Encoded ? 'base64' : 'utf8');
    if (bytes > options.maxBodyBytes)
      throw new ChronicleError('payload_too_large', 'PAYLOAD_TOO_LARGE', `the body is ${bytes} bytes; at most ${options.maxBodyBytes} are accepted`, {
        maxBodyBytes: options.maxBodyBytes,
      });
    const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
    if (text.trim() === '') {
      if (options.emptyBodyAllowed) {
        event.json = {};
        return;
      }
      throw new ValidationError('a JSON body is required', [{ path: 'body', message: 'required' }]);
    }
    const contentType = headerOf(event, 'content-type');
    if (!isJsonMediaType(contentType))
      throw new ChronicleError('unsupported_media_type', 'UNSUPPORTED_MEDIA_TYPE', 'the body must be JSON, sent with Content-Type: application/json', {
        contentType: contentType ?? null,
      });
    try {
      event.json = JSON.parse(text);
    } catch {
      throw new ChronicleError('validation', 'MALFORMED_JSON', 'the body is not valid JSON');
    }
    const duplicate = firstDuplicateKey(text);
    if (duplicate !== null)
      throw new ChronicleError('validation', 'MALFORMED_JSON', 'the body names a key twice in one object', { duplicateKey: duplicate.slice(0, 100) });
  };
  return { before: jsonBodyBefore };
};
