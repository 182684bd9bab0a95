import { ChronicleError, NotFoundError } from '#domain/errors';

/**
 * Every route the API serves, as serverless.yml declares them (a test holds the two equal).
 * The catch-all function answers anything else from this table, so that an unknown path and a
 * known path with the wrong method answer in Chronicle's error format, on AWS and locally.
 */
export const ROUTES: readonly string[] = [
  'POST /users',
  'GET /users',
  'GET /users/{id}',
  'GET /users/{id}/events',
  'DELETE /users/{id}',
  'GET /users/{id}/export',
  'POST /users/{id}/email',
  'POST /users/{id}/email/verification',
  'POST /users/{id}/suspension',
  'POST /users/{id}/reactivation',
  'GET /health',
];

// Exact: a trailing slash is another path, as API Gateway routes it.
const patternOf = (path: string): RegExp => new RegExp(`^${path.replace(/\{[^/}]+\}/g, '[^/]+')}$`);

const TABLE = ROUTES.map((route) => {
  const [method = '', path = ''] = route.split(' ');
  return { method, pattern: patternOf(path) };
});

/** The methods a path answers to (empty: no such path). HEAD follows GET, as HTTP says. */
export const methodsFor = (path: string): string[] => {
  const methods = TABLE.filter((route) => route.pattern.test(path)).map((route) => route.method);
  return methods.includes('GET') ? [...methods, 'HEAD'] : methods;
};

/** The answer for a request no function took: 405 with `Allow` when the path exists, else 404. */
export const unroutedError = (method: string, path: string): ChronicleError => {
  const allow = methodsFor(path);
  if (allow.length === 0) return new NotFoundError('ROUTE_NOT_FOUND', `no route answers ${method} ${path.slice(0, 200)}`);
  return new ChronicleError('method_not_allowed', 'METHOD_NOT_ALLOWED', `${method} is not allowed on this path`, { allow });
};
