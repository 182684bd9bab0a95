import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HealthServer {
  readonly port: number;
  close(): Promise<void>;
}

export interface HealthServerOptions {
  readonly port: number;
  readonly host?: string;
  /** Ready: connected to the read models and subscribed to the log. */
  readonly isHealthy: () => boolean;
  readonly details?: () => Readonly<Record<string, unknown>>;
  readonly registry: Registry;
}

const send = (response: http.ServerResponse, status: number, contentType: string, body: string): void => {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
};

/** GET /health for the container check (200 only when ready, else 503) and GET /metrics for Prometheus. */
export const startHealthServer = async (options: HealthServerOptions): Promise<HealthServer> => {
  const server = http.createServer((request, response) => {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'application/json', JSON.stringify({ error: 'method not allowed' }));
    if (path === '/health') {
      const healthy = options.isHealthy();
      const body = { status: healthy ? 'ok' : 'unavailable', ...options.details?.() };
      return send(response, healthy ? 200 : 503, 'application/json', JSON.stringify(body));
    }
    if (path === '/metrics') {
      options.registry.metrics().then(
        (text) => send(response, 200, options.registry.contentType, text),
        (error: unknown) => send(response, 500, 'text/plain', `metrics failed: ${error instanceof Error ? error.message : String(error)}`),
      );
      return;
    }
    send(response, 404, 'application/json', JSON.stringify({ error: 'not found' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
