import { Registry } from 'prom-client';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer } from './http.js';
import type { HttpServer } from './http.js';

let server: HttpServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe('startHttpServer', () => {
  it('answers probes with 200/503 and JSON detail, metrics as Prometheus text, anything else 404/405', async () => {
    const registry = new Registry();
    new Counter({ name: 'x_total', help: 'x', registers: [registry] }).inc();
    let ready = false;
    server = await startHttpServer('127.0.0.1', 0, {
      health: () => ({ ok: true, detail: {} }),
      ready: () => ({ ok: ready, detail: { partitions: [1] } }),
      registry,
    });
    const get = async (path: string, method = 'GET') => {
      const res = await fetch(`http://127.0.0.1:${server!.port}${path}`, { method });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    };
    expect(await get('/healthz')).toEqual({
      status: 200,
      type: 'application/json',
      body: '{"status":"ok"}',
    });
    expect(await get('/readyz')).toEqual({
      status: 503,
      type: 'application/json',
      body: '{"status":"unavailable","partitions":[1]}',
    });
    ready = true;
    expect((await get('/readyz?verbose')).status).toBe(200);
    const metrics = await get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toBe(registry.contentType);
    expect(metrics.body).toContain('x_total 1');
    expect((await get('/other')).status).toBe(404);
    expect((await get('/metrics', 'POST')).status).toBe(405);
  });
});
