import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface ReadinessCheck {
  name: string;
  check: () => Promise<boolean>;
}

/**
 * The collector's own small HTTP surface: `/metrics` for Prometheus, `/health/live` and
 * `/health/ready` (each dependency named when it is down).
 */
export async function startHttpServer(opts: { host: string; port: number; registry: Registry; readiness: ReadinessCheck[] }): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    const send = (status: number, body: string, type = 'application/json'): void => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET') return send(405, JSON.stringify({ error: { code: 'method_not_allowed', message: 'only GET is served here' } }));
    if (url === '/metrics') {
      opts.registry.metrics().then(
        text => send(200, text, opts.registry.contentType),
        () => send(500, JSON.stringify({ error: { code: 'internal', message: 'metrics unavailable' } })),
      );
      return;
    }
    if (url === '/health/live') return send(200, JSON.stringify({ status: 'ok' }));
    if (url === '/health/ready') {
      Promise.all(opts.readiness.map(async r => [r.name, await r.check().catch(() => false)] as const)).then(results => {
        const checks = Object.fromEntries(results.map(([n, ok]) => [n, ok ? 'ok' : 'down']));
        const ready = results.every(([, ok]) => ok);
        send(ready ? 200 : 503, JSON.stringify({ status: ready ? 'ready' : 'not_ready', checks }));
      }, () => send(503, JSON.stringify({ status: 'not_ready' })));
      return;
    }
    send(404, JSON.stringify({ error: { code: 'not_found', message: 'try /metrics, /health/live or /health/ready' } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : opts.port;
  return { server, port, close: () => new Promise<void>(r => server.close(() => r())) };
}
