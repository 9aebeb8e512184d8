import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** A health or readiness answer: ok decides the status code, detail is shown as JSON. */
export interface Probe {
  ok: boolean;
  detail: Record<string, unknown>;
}

/** What the HTTP endpoints report. */
export interface HttpEndpoints {
  health: () => Probe;
  ready: () => Probe;
  registry: Registry;
}

/** A running HTTP server and the port it listens on. */
export interface HttpServer {
  port: number;
  close(): Promise<void>;
}

/** Serves /healthz, /readyz (200 or 503 with JSON detail) and /metrics (Prometheus text). */
export async function startHttpServer(
  host: string,
  port: number,
  endpoints: HttpEndpoints,
): Promise<HttpServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/healthz' || path === '/readyz') {
      const probe = path === '/healthz' ? endpoints.health() : endpoints.ready();
      res
        .writeHead(probe.ok ? 200 : 503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ status: probe.ok ? 'ok' : 'unavailable', ...probe.detail }));
      return;
    }
    if (path === '/metrics') {
      endpoints.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': endpoints.registry.contentType }).end(text),
        (error: unknown) =>
          res
            .writeHead(500, { 'content-type': 'text/plain' })
            .end(`metrics failed: ${String(error)}`),
      );
      return;
    }
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('not found: try /healthz, /readyz, /metrics');
  });
  // Probes and scrapes are short; don't let an idle keep-alive connection hold shutdown up.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
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
}
