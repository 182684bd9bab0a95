import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { methodsFor, ROUTES, unroutedError } from '#http/routeTable';

type Functions = Record<string, { events?: Array<{ httpApi?: string | { method: string; path: string } }> }>;

const declaredRoutes = (): string[] => {
  const text = readFileSync(new URL('../../../serverless.yml', import.meta.url), 'utf8');
  const service = yaml.load(text, { schema: yaml.JSON_SCHEMA, json: true }) as { functions: Functions };
  return Object.values(service.functions)
    .flatMap((fn) => fn.events ?? [])
    .map((event) => event.httpApi)
    .filter((route): route is { method: string; path: string } => typeof route === 'object' && route !== null)
    .map((route) => `${route.method.toUpperCase()} ${route.path}`);
};

describe('the route table', () => {
  it('lists exactly the routes serverless.yml declares', () => expect([...ROUTES].sort()).toEqual(declaredRoutes().sort()));

  it('knows which methods a path answers to', () => {
    expect(methodsFor('/users/0b8f3a52-0000-4000-8000-000000000000')).toEqual(['GET', 'DELETE', 'HEAD']);
    expect(methodsFor('/users').sort()).toEqual(['GET', 'HEAD', 'POST']);
    expect(methodsFor('/nothing/here')).toEqual([]);
  });

  it('answers an unknown path 404 ROUTE_NOT_FOUND and a wrong method 405 with the allowed ones', () => {
    expect(unroutedError('GET', '/admin')).toMatchObject({ code: 'ROUTE_NOT_FOUND', kind: 'not_found' });
    expect(unroutedError('DELETE', '/users')).toMatchObject({ code: 'METHOD_NOT_ALLOWED', details: { allow: ['POST', 'GET', 'HEAD'] } });
  });
});
