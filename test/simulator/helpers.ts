// Plain grpc-js clients (from proto/loader.ts bosServices()) against a simulated miner, with small
// promise wrappers. Each test file uses its own 127.x.0.0/16 block so files can run in parallel.
import * as grpc from '@grpc/grpc-js';

import { bosServices } from '../../proto/loader.ts';
import type { BosServiceName } from '../../proto/types.ts';

export interface CallResult<T> {
  res: T;
  headers: grpc.Metadata;
}

type AnyClient = grpc.Client & Record<string, unknown>;

export interface MinerClients {
  address: string;
  channel: grpc.Channel;
  client(name: BosServiceName): AnyClient;
  /** Unary call; `md` defaults to the session's authorization metadata (after login()). */
  call<T = Record<string, unknown>>(
    service: BosServiceName,
    method: string,
    request?: object,
    md?: grpc.Metadata,
    deadlineMs?: number,
  ): Promise<CallResult<T>>;
  login(password?: string): Promise<string>;
  /** Metadata with the session token (after login()). */
  md: grpc.Metadata;
  close(): void;
}

export function connect(address: string): MinerClients {
  const services = bosServices();
  const channel = new grpc.Channel(address, grpc.credentials.createInsecure(), {});
  const clients = new Map<BosServiceName, AnyClient>();
  const client = (name: BosServiceName): AnyClient => {
    let c = clients.get(name);
    if (!c) {
      c = new services[name](address, grpc.credentials.createInsecure(), {
        channelOverride: channel,
      }) as unknown as AnyClient;
      clients.set(name, c);
    }
    return c;
  };
  const self: MinerClients = {
    address,
    channel,
    client,
    md: new grpc.Metadata(),
    call<T>(
      service: BosServiceName,
      method: string,
      request: object = {},
      md?: grpc.Metadata,
      deadlineMs = 5_000,
    ): Promise<CallResult<T>> {
      return unaryCall<T>(client(service), method, request, md ?? self.md, deadlineMs);
    },
    async login(password = 'root'): Promise<string> {
      const { res } = await unaryCall<{ token: string }>(
        client('AuthenticationService'),
        'Login',
        { username: 'root', password },
        new grpc.Metadata(),
        5_000,
      );
      self.md = new grpc.Metadata();
      self.md.set('authorization', res.token);
      return res.token;
    },
    close(): void {
      for (const c of clients.values()) c.close();
      channel.close();
    },
  };
  return self;
}

export function unaryCall<T>(
  client: AnyClient,
  method: string,
  request: object,
  md: grpc.Metadata,
  deadlineMs: number,
): Promise<CallResult<T>> {
  return new Promise((resolve, reject) => {
    let headers = new grpc.Metadata();
    const fn = client[method] as (
      req: object,
      md: grpc.Metadata,
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res: T) => void,
    ) => grpc.ClientUnaryCall;
    if (typeof fn !== 'function') return reject(new Error(`no method ${method}`));
    const call = fn.call(client, request, md, { deadline: Date.now() + deadlineMs }, (err, res) =>
      err ? reject(err) : resolve({ res, headers }),
    );
    call.on('metadata', (m: grpc.Metadata) => {
      headers = m;
    });
  });
}

/** Expects the promise to fail with the gRPC status `code`; returns the error. */
export async function expectStatus(p: Promise<unknown>, code: grpc.status): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    const e = err as grpc.ServiceError;
    if (e.code !== code)
      throw new Error(
        `expected status ${grpc.status[code]}, got ${grpc.status[e.code] ?? e.code}: ${e.details}`,
        { cause: err },
      );
    return e;
  }
  throw new Error(`expected status ${grpc.status[code]}, but the call succeeded`);
}

export const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value or `timeoutMs` passes. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `condition not met within ${timeoutMs} ms${lastErr ? `: ${(lastErr as Error).message}` : ''}`,
      );
    await sleep(everyMs);
  }
}

/** Fast timings for tests. */
export const FAST = {
  rebootMs: 800,
  retuneMs: 700,
  warmupMs: 300,
  quickRamping: { upS: 1, downS: 1 },
} as const;

/**
 * A run of `n` consecutive free loopback ports below Linux's ephemeral range (32768+), so an
 * outgoing connection of another test cannot take one between this check and the listen.
 */
export async function freePortRun(n: number): Promise<number> {
  const { createServer } = await import('node:net');
  const canBind = (port: number): Promise<boolean> =>
    new Promise(resolve => {
      const srv = createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * (32_000 - 20_000 - n));
    let ok = true;
    for (let p = base; p < base + n && ok; p++) ok = await canBind(p);
    if (ok) return base;
  }
  throw new Error(`no run of ${n} free loopback ports found in 20000-32000`);
}
