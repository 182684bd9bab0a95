import type { MiddlewareObj, Request } from '@middy/core';
import type { z } from 'zod';
import { ValidationError, type ValidationIssue } from '#domain/errors';
import type { HttpEvent, HttpResponse } from './httpEvent.ts';

export interface InputSchemas {
  readonly body?: z.ZodType;
  readonly query?: z.ZodType;
  readonly path?: z.ZodType;
}

type Infer<S> = S extends z.ZodType ? z.infer<S> : undefined;

/** The validated parts of a request, typed from their schemas. */
export interface ValidInput<S extends InputSchemas> {
  readonly body: Infer<S['body']>;
  readonly query: Infer<S['query']>;
  readonly path: Infer<S['path']>;
}

const issuesOf = (error: z.ZodError, prefix: string | null): ValidationIssue[] =>
  error.issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return { path: prefix === null ? path || 'body' : path === '' ? prefix : path, message: issue.message };
  });

/** Checks body, query string and path parameters against their schemas; 400 names every bad field. */
export const validation = (schemas: InputSchemas): MiddlewareObj<HttpEvent, HttpResponse> => {
  const validationBefore = (request: Request<HttpEvent, HttpResponse>): void => {
    const { event } = request;
    const issues: ValidationIssue[] = [];
    const check = (schema: z.ZodType | undefined, value: unknown, prefix: string | null): unknown => {
      if (schema === undefined) return undefined;
      const result = schema.safeParse(value);
      if (result.success) return result.data;
      issues.push(...issuesOf(result.error, prefix));
      return undefined;
    };
    const input = {
      body: check(schemas.body, event.json, null),
      query: check(schemas.query, event.queryStringParameters ?? {}, 'query'),
      path: check(schemas.path, event.pathParameters ?? {}, 'path'),
    };
    if (issues.length > 0) throw new ValidationError(`invalid request: ${issues.map((i) => i.path).join(', ')}`, issues);
    event.input = input;
  };
  return { before: validationBefore };
};
