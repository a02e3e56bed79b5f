// A tiny admin HTTP endpoint on 127.0.0.1 for a simulator running as its own process:
//   GET    /health                      → {"ok":true}
//   GET    /miners                      → [{id, address, model, site, tenant, reachable, status, faults}]
//   GET    /miners/:id                  → ground truth of one miner (see truth.ts)
//   POST   /miners/:id/faults           ← {"fault":"slow","delay_ms":2000} (or "kind") → 201 {id, faults}
//   DELETE /miners/:id/faults/:fault    → {id, cleared, faults}
//   DELETE /miners/:id/faults           → clears every fault
//   POST   /miners/:id/reboot           → 202
//   GET    /stats                       → gRPC call counters
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

import { describeFault, isFaultKind } from './faults.ts';
import type { SimulatedFleet } from './fleet.ts';

const MAX_BODY = 64 * 1024;

class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(413, 'request body too large');
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new HttpError(400, 'request body must be a JSON object');
  return parsed as Record<string, unknown>;
}

function minerOr404(fleet: SimulatedFleet, id: string): string {
  if (!fleet.miners.some(m => m.id === id)) throw new HttpError(404, `no simulated miner with id '${id}'`);
  return id;
}

async function handle(fleet: SimulatedFleet, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const method = req.method ?? 'GET';
  if (parts.length === 1 && parts[0] === 'health' && method === 'GET') return send(res, 200, { ok: true });
  if (parts.length === 1 && parts[0] === 'stats' && method === 'GET')
    return send(res, 200, fleet.grpcStats());
  if (parts[0] !== 'miners') throw new HttpError(404, 'not found');
  if (parts.length === 1) {
    if (method !== 'GET') throw new HttpError(405, 'method not allowed');
    return send(
      res,
      200,
      fleet.miners.map(m => {
        const vm = fleet.miner(m.id);
        return {
          id: m.id,
          address: m.address,
          model: m.model,
          site: m.site,
          tenant: m.tenant,
          rack: m.rack,
          reachable: vm.reachable,
          status: vm.status,
          firmware: vm.firmware,
          faults: vm.listFaults().map(describeFault),
        };
      }),
    );
  }
  const id = minerOr404(fleet, parts[1] ?? '');
  if (parts.length === 2 && method === 'GET') return send(res, 200, fleet.truth(id));
  if (parts.length === 3 && parts[2] === 'reboot' && method === 'POST') {
    fleet.rebootMiner(id);
    return send(res, 202, { id, rebooting: true, reboot_ms: fleet.options.rebootMs });
  }
  if (parts[2] !== 'faults') throw new HttpError(404, 'not found');
  if (parts.length === 3 && method === 'GET') return send(res, 200, { id, faults: fleet.faults(id) });
  if (parts.length === 3 && method === 'POST') {
    const body = await readJson(req);
    const { fault, kind, ...params } = body;
    const name = typeof fault === 'string' ? fault : kind;
    if (typeof name !== 'string' || !isFaultKind(name))
      throw new HttpError(400, 'body needs "fault": one of the fault kinds');
    try {
      fleet.injectFault(id, { kind: name, ...params } as Parameters<SimulatedFleet['injectFault']>[1]);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    return send(res, 201, { id, faults: fleet.faults(id) });
  }
  if (method === 'DELETE' && (parts.length === 3 || parts.length === 4)) {
    const kind = parts[3];
    if (kind !== undefined && !isFaultKind(kind)) throw new HttpError(400, `unknown fault '${kind}'`);
    const cleared = fleet.clearFault(id, kind);
    return send(res, 200, { id, cleared, faults: fleet.faults(id) });
  }
  throw new HttpError(405, 'method not allowed');
}

/** Starts the admin endpoint on 127.0.0.1:port (0 = any free port); resolves to its base URL. */
export async function startAdminHttp(
  fleet: SimulatedFleet,
  port: number,
): Promise<{ url: string; server: Server; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    handle(fleet, req, res).catch((err: unknown) => {
      const status = err instanceof HttpError ? err.status : 500;
      if (status === 500) fleet.logger.error({ err }, 'admin request failed');
      if (!res.headersSent) send(res, status, { error: err instanceof Error ? err.message : String(err) });
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const actual = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://127.0.0.1:${actual}`,
    server,
    close: () =>
      new Promise<void>(resolve => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
