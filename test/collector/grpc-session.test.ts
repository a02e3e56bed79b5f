import http2 from 'node:http2';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { GrpcSession } from '../../collector/grpc-session.ts';

// The transport's protocol edges against a hand-written HTTP/2 server on loopback: answers a
// real miner or a proxy in front of it can give that the simulator (a grpc-js server, see
// miner-client.test.ts) never does.

type Handler = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;
const closers: (() => Promise<void>)[] = [];

afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

async function server(handler: Handler, port = 0): Promise<string> {
  const srv = http2.createServer();
  const sessions = new Set<http2.ServerHttp2Session>();
  srv.on('session', s => sessions.add(s));
  srv.on('stream', (stream, headers) => {
    // Read the request to its end first, as a gRPC server does.
    stream.resume();
    stream.on('end', () => handler(stream, headers));
  });
  await new Promise<void>(r => srv.listen(port, '127.0.0.1', r));
  closers.push(async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>(r => srv.close(() => r()));
  });
  return `127.0.0.1:${(srv.address() as AddressInfo).port}`;
}

const frame = (payload: Buffer, compressed = 0): Buffer => {
  const b = Buffer.alloc(5 + payload.length);
  b[0] = compressed;
  b.writeUInt32BE(payload.length, 1);
  payload.copy(b, 5);
  return b;
};

const ok = (stream: http2.ServerHttp2Stream, body: Buffer[]): void => {
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  for (const b of body) stream.write(b);
  stream.end();
};

interface Result {
  messages: string[];
  err: ServiceError | null;
  headers: Metadata | null;
}

function call(
  session: GrpcSession,
  o: { timeoutMs?: number; signal?: AbortSignal; md?: Metadata } = {},
): Promise<Result> {
  const out: Result = { messages: [], err: null, headers: null };
  return new Promise(resolve =>
    session.call(
      { path: '/svc/Method', request: Buffer.from('req'), metadata: o.md ?? new Metadata(), ...o },
      {
        onMessage: m => out.messages.push(m.toString()),
        onHeaders: md => (out.headers = md),
        onEnd: err => resolve({ ...out, err }),
      },
    ),
  );
}

const sessions: GrpcSession[] = [];
const session = (
  address: string,
  o: { keepaliveMs?: number; keepaliveTimeoutMs?: number; maxMessageBytes?: number } = {},
): GrpcSession => {
  const s = new GrpcSession({ address, ...o });
  sessions.push(s);
  closers.push(async () => s.close());
  return s;
};

describe('GrpcSession', () => {
  it('sends the request framed with its metadata and deadline, and reassembles messages split over frames', async () => {
    let seen: http2.IncomingHttpHeaders = {};
    const address = await server((stream, headers) => {
      seen = headers;
      const a = frame(Buffer.from('first'));
      const b = frame(Buffer.from('second'));
      const both = Buffer.concat([a, b]);
      // one message cut in three, then the second whole
      ok(stream, [both.subarray(0, 3), both.subarray(3, 7), both.subarray(7)]);
    });
    const md = new Metadata();
    md.set('authorization', 'token-1');
    const r = await call(session(address), { timeoutMs: 2_000, md });
    expect(r.err).toBeNull();
    expect(r.messages).toEqual(['first', 'second']);
    expect(seen[':method']).toBe('POST');
    expect(seen[':path']).toBe('/svc/Method');
    expect(seen['content-type']).toBe('application/grpc');
    expect(seen.te).toBe('trailers');
    expect(seen.authorization).toBe('token-1');
    expect(seen['grpc-timeout']).toBe('2000m');
  });

  it('reads a trailers-only error with its percent-encoded message, and response metadata', async () => {
    const address = await server(stream => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(status.PERMISSION_DENIED),
          'grpc-message': 'no%20way%3A%20locked',
          authorization: 'tok',
        },
        { endStream: true },
      );
    });
    const r = await call(session(address), { timeoutMs: 2_000 });
    expect(r.err?.code).toBe(status.PERMISSION_DENIED);
    expect(r.err?.details).toBe('no way: locked');
    expect(r.headers?.get('authorization')).toEqual(['tok']);
  });

  it('maps HTTP answers that are not gRPC (a proxy, a web server on the port)', async () => {
    const answers: [number, string, status][] = [
      [503, 'application/grpc', status.UNAVAILABLE],
      [404, 'text/html', status.UNIMPLEMENTED],
      [401, 'text/plain', status.UNAUTHENTICATED],
      [200, 'text/html', status.UNKNOWN],
    ];
    let i = 0;
    const address = await server(stream => {
      const [code, type] = answers[i++]!;
      stream.respond({ ':status': code, 'content-type': type });
      stream.end('<html>');
    });
    const s = session(address);
    for (const [, , want] of answers) expect((await call(s, { timeoutMs: 2_000 })).err?.code).toBe(want);
  });

  it('refuses compressed messages, messages over the size limit, and answers cut inside a message', async () => {
    const bodies = [
      [frame(Buffer.from('zipped'), 1)],
      [frame(Buffer.alloc(2_000))],
      [frame(Buffer.from('whole')).subarray(0, 7)],
    ];
    let i = 0;
    const address = await server(stream => ok(stream, bodies[i++]!));
    const s = session(address, { maxMessageBytes: 1_000 });
    expect((await call(s, { timeoutMs: 2_000 })).err?.code).toBe(status.INTERNAL);
    expect((await call(s, { timeoutMs: 2_000 })).err?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect((await call(s, { timeoutMs: 2_000 })).err?.code).toBe(status.INTERNAL);
  });

  it('ends a call at its deadline or on abort, and the session keeps serving', async () => {
    const address = await server((stream, headers) => {
      if (headers['x-answer'] === 'now') ok(stream, [frame(Buffer.from('ok'))]);
      // otherwise never answers
    });
    const s = session(address);
    const t0 = performance.now();
    const late = await call(s, { timeoutMs: 150 });
    expect(late.err?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(performance.now() - t0).toBeLessThan(1_000);
    const ctl = new AbortController();
    const pending = call(s, { signal: ctl.signal });
    setTimeout(() => ctl.abort(), 50);
    expect((await pending).err?.code).toBe(status.CANCELLED);
    const md = new Metadata();
    md.set('x-answer', 'now');
    expect((await call(s, { timeoutMs: 2_000, md })).messages).toEqual(['ok']);
  });

  it('reports a refused connection as unavailable and connects again once the miner is back', async () => {
    const probe = net.createServer();
    await new Promise<void>(r => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>(r => probe.close(() => r()));
    const s = session(`127.0.0.1:${port}`);
    expect((await call(s, { timeoutMs: 2_000 })).err?.code).toBe(status.UNAVAILABLE);
    await server(stream => ok(stream, [frame(Buffer.from('back'))]), port);
    expect((await call(s, { timeoutMs: 2_000 })).messages).toEqual(['back']);
  });

  it('a stream without deadline ends unavailable when the peer stops answering keepalive pings', async () => {
    // A TCP peer that accepts and then never speaks: like a miner that lost power mid-stream.
    const silent = net.createServer(() => undefined);
    await new Promise<void>(r => silent.listen(0, '127.0.0.1', r));
    const sockets = new Set<net.Socket>();
    silent.on('connection', c => sockets.add(c));
    closers.push(async () => {
      for (const c of sockets) c.destroy();
      await new Promise<void>(r => silent.close(() => r()));
    });
    const s = session(`127.0.0.1:${(silent.address() as AddressInfo).port}`, {
      keepaliveMs: 100,
      keepaliveTimeoutMs: 100,
    });
    const t0 = performance.now();
    const r = await call(s);
    expect(r.err?.code).toBe(status.UNAVAILABLE);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });
});
