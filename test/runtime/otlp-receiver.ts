// A minimal OTLP/HTTP JSON receiver for the trace tests: services export to it (OTEL_EXPORTER_OTLP_ENDPOINT,
// OTEL_EXPORTER_OTLP_PROTOCOL=http/json) and the test reads the spans they sent.
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A span as OTLP/JSON carries it (ids in hex). */
export interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  links?: Array<{ traceId: string; spanId: string }>;
  attributes?: Array<{ key: string; value: { stringValue?: string; intValue?: string | number } }>;
}

/** An exported span's attributes as a plain object (OTLP/JSON wraps each value in its type). */
export function attributesOf(span: ExportedSpan | undefined): Record<string, string> {
  return Object.fromEntries(
    (span?.attributes ?? []).map((a) => [a.key, String(a.value.stringValue ?? a.value.intValue)]),
  );
}

/** A minimal OTLP/HTTP JSON receiver: collects the spans of every POST /v1/traces. */
export async function startReceiver(): Promise<{
  url: string;
  spans: ExportedSpan[];
  close: () => Promise<void>;
}> {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const payload = JSON.parse(body) as {
          resourceSpans?: Array<{ scopeSpans?: Array<{ spans?: ExportedSpan[] }> }>;
        };
        for (const rs of payload.resourceSpans ?? [])
          for (const ss of rs.scopeSpans ?? []) spans.push(...(ss.spans ?? []));
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
