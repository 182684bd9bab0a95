import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import type { HttpEvent, HttpResponse } from '#http/httpEvent';

type Handler = (event: HttpEvent, context: Context) => Promise<HttpResponse>;

export interface ApiAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly json: Record<string, unknown>;
}

export type CallApi = (method: string, path: string, options: { readonly token: string; readonly body?: unknown; readonly headers?: Record<string, string> }) => Promise<ApiAnswer>;

/**
 * The Lambdas called in this process with API Gateway (payload 2.0) events, as API Gateway
 * would call them: the same handlers, middleware stack and wiring as deployed. The environment
 * must be set before this runs (the wiring reads it once, at import).
 */
export const inProcessApi = async (): Promise<CallApi> => {
  // Lambda runs one invocation per instance at a time; here they overlap in one process and
  // would share Powertools' Metrics object (one invocation's route dimension on another's
  // counts, and a warning per request), so EMF stays off unless asked for.
  process.env['POWERTOOLS_METRICS_DISABLED'] ??= 'true';
  process.env['POWERTOOLS_SERVICE_NAME'] ??= 'chronicle';
  const load = async (name: string): Promise<Handler> => ((await import(`../../handlers/${name}.ts`)) as { handler: Handler }).handler;
  const routes: Array<[string, RegExp, Handler]> = [
    ['POST', /^\/users$/, await load('registerUser')],
    ['POST', /^\/users\/([^/]+)\/email$/, await load('changeEmail')],
    ['POST', /^\/users\/([^/]+)\/email\/verification$/, await load('verifyEmail')],
    ['POST', /^\/users\/([^/]+)\/suspension$/, await load('suspendUser')],
    ['POST', /^\/users\/([^/]+)\/reactivation$/, await load('reactivateUser')],
    ['GET', /^\/users\/([^/]+)$/, await load('getUser')],
  ];
  return async (method, path, options) => {
    const [rawPath = '', query = ''] = path.split('?');
    const route = routes.find(([m, pattern]) => m === method && pattern.test(rawPath));
    if (route === undefined) throw new Error(`no route for ${method} ${rawPath}`);
    const id = route[1].exec(rawPath)?.[1];
    const event = {
      version: '2.0',
      routeKey: `${method} ${rawPath}`,
      rawPath,
      rawQueryString: query,
      headers: {
        authorization: `Bearer ${options.token}`,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      queryStringParameters: query === '' ? undefined : Object.fromEntries(new URLSearchParams(query)),
      pathParameters: id === undefined ? undefined : { id },
      requestContext: { requestId: randomUUID(), http: { method, path: rawPath } },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      isBase64Encoded: false,
    } as unknown as HttpEvent;
    const response = await route[2](event, { awsRequestId: randomUUID() } as Context);
    return { status: response.statusCode, headers: response.headers, json: response.body === '' ? {} : (JSON.parse(response.body) as Record<string, unknown>) };
  };
};
