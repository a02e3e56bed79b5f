// The simulator's gRPC server transports on the wire: the node:http2 one (default) and grpc-js's,
// with the same expectations, through grpc-js clients and (for what grpc-js clients cannot
// produce: a message split across DATA frames, the exact trailers-only shape) a raw HTTP/2 client.
import { once } from 'node:events';
import http2 from 'node:http2';
import net from 'node:net';

import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeMessage, encodeMessage } from '../../proto/loader.ts';
import { startSimulator, type SimulatedFleet, type SimulatorTransport } from '../../simulator/index.ts';
import { resolveOptions } from '../../simulator/options.ts';
import { connect, expectStatus, waitFor, type MinerClients } from './helpers.ts';

interface RawAnswer {
  headers: http2.IncomingHttpHeaders;
  /** the DATA bytes as received */
  body: Buffer;
  trailers: http2.IncomingHttpHeaders | undefined;
}

/** One gRPC call over a raw HTTP/2 session; `pieces` are written one by one, each its own DATA frame. */
async function rawCall(
  session: http2.ClientHttp2Session,
  path: string,
  pieces: Buffer[],
  extra: http2.OutgoingHttpHeaders = {},
): Promise<RawAnswer> {
  const stream = session.request({
    ':method': 'POST',
    ':path': path,
    'content-type': 'application/grpc',
    te: 'trailers',
    ...extra,
  });
  const chunks: Buffer[] = [];
  let trailers: http2.IncomingHttpHeaders | undefined;
  stream.on('data', (c: Buffer) => chunks.push(c));
  stream.on('trailers', t => (trailers = t));
  const response = once(stream, 'response') as Promise<[http2.IncomingHttpHeaders]>;
  for (const piece of pieces) {
    await new Promise<void>((resolve, reject) => stream.write(piece, err => (err ? reject(err) : resolve())));
  }
  stream.end();
  const [headers] = await response;
  await once(stream, 'close');
  return { headers, body: Buffer.concat(chunks), trailers };
}

function framed(message: Uint8Array): Buffer {
  const out = Buffer.alloc(5 + message.length);
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

describe('simulator transport option', () => {
  it('defaults to http2 and refuses an unknown transport, naming the choices', () => {
    expect(resolveOptions({}).transport).toBe('http2');
    expect(resolveOptions({ transport: 'grpc-js' }).transport).toBe('grpc-js');
    expect(() => resolveOptions({ transport: 'h3' as SimulatorTransport })).toThrow(
      "transport must be one of http2, grpc-js, got 'h3'",
    );
  });
});

const LOGIN = '/braiins.bos.v1.AuthenticationService/Login';
const STATS = '/braiins.bos.v1.MinerService/GetMinerStats';

describe.each<[SimulatorTransport, string]>([
  ['http2', '127.71.0.1'],
  ['grpc-js', '127.71.1.1'],
])('simulator transport %s', (transport, baseAddress) => {
  let fleet: SimulatedFleet;
  let c: MinerClients;
  const opened: MinerClients[] = [];
  const open = (i: number): MinerClients => {
    const client = connect(fleet.miners[i]!.address);
    opened.push(client);
    return client;
  };

  beforeAll(async () => {
    fleet = await startSimulator({ miners: 4, seed: 'transport', baseAddress, transport });
    c = open(0);
    await c.login();
  });
  afterAll(async () => {
    for (const client of opened) client.close();
    await fleet.stop();
  });

  it('reads a request split across DATA frames and frames the answer (headers, one message, trailers OK)', async () => {
    const session = http2.connect(`http://${fleet.miners[1]!.address}`);
    try {
      const request = framed(encodeMessage('LoginRequest', { username: 'root', password: 'root' }));
      // the length prefix itself is cut in two, then the body in two
      const cuts = [0, 2, 5, 9, request.length];
      const pieces = cuts.slice(1).map((end, i) => request.subarray(cuts[i], end));
      const answer = await rawCall(session, LOGIN, pieces);
      expect(answer.headers[':status']).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^application\/grpc/);
      expect(answer.headers['grpc-status']).toBeUndefined();
      expect(answer.trailers?.['grpc-status']).toBe('0');
      expect(answer.body[0]).toBe(0);
      expect(answer.body.readUInt32BE(1)).toBe(answer.body.length - 5);
      const res = decodeMessage<{ token: string }>('LoginResponse', answer.body.subarray(5));
      expect(res.token).toMatch(/^[A-Za-z0-9]{16}$/);
      // the legacy delivery: the same token in the response headers
      expect(answer.headers.authorization).toBe(res.token);

      // two messages for a unary method: refused (UNIMPLEMENTED, as grpc-js answers), not half-read
      const twice = await rawCall(
        session,
        STATS,
        [Buffer.concat([framed(new Uint8Array()), framed(new Uint8Array())])],
        {
          authorization: res.token,
        },
      );
      expect(Number(twice.headers['grpc-status'] ?? twice.trailers?.['grpc-status'])).toBe(
        grpc.status.UNIMPLEMENTED,
      );
    } finally {
      session.close();
    }
  });

  it('answers an error before any message trailers-only: the status in the headers, no DATA, no trailers', async () => {
    const session = http2.connect(`http://${fleet.miners[1]!.address}`);
    try {
      const answer = await rawCall(session, STATS, [framed(new Uint8Array())]);
      expect(answer.headers[':status']).toBe(200);
      expect(answer.headers['content-type']).toMatch(/^application\/grpc/);
      expect(answer.headers['grpc-status']).toBe(String(grpc.status.UNAUTHENTICATED));
      expect(decodeURIComponent(String(answer.headers['grpc-message']))).toMatch(
        /missing authorization token/,
      );
      expect(answer.body.length).toBe(0);
      expect(answer.trailers).toBeUndefined();

      const unknown = await rawCall(session, '/braiins.bos.v1.MinerService/NoSuchMethod', [
        framed(new Uint8Array()),
      ]);
      expect(unknown.headers['grpc-status']).toBe(String(grpc.status.UNIMPLEMENTED));
    } finally {
      session.close();
    }
  });

  it('percent-encodes grpc-message: a non-ASCII detail reaches a grpc-js client intact', async () => {
    // SystemUpgrade (client streaming) refuses a size of 0 with "1–<max> bytes" (an en dash)
    const client = c.client('UpgradeService') as unknown as grpc.Client & {
      SystemUpgrade(
        md: grpc.Metadata,
        cb: (err: grpc.ServiceError | null, res: unknown) => void,
      ): grpc.ClientWritableStream<object>;
    };
    const err = await new Promise<grpc.ServiceError | null>(resolve => {
      const call = client.SystemUpgrade(c.md, e => resolve(e));
      call.write({ metadata: { size: 0, hash: 'a'.repeat(64) } });
      call.end();
    });
    expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err?.details).toMatch(/^metadata\.size must be 1–\d+ bytes, got 0$/);
  });

  it('a response larger than one DATA frame reaches a grpc-js client whole (GetLog)', async () => {
    const client = c.client('MinerService') as unknown as grpc.Client & {
      GetLog(req: object, md: grpc.Metadata): grpc.ClientReadableStream<{ chunk_data: Buffer }>;
    };
    const stream = client.GetLog({}, c.md);
    const parts: Buffer[] = [];
    stream.on('data', (m: { chunk_data: Buffer }) => parts.push(Buffer.from(m.chunk_data)));
    await new Promise<void>((resolve, reject) => {
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(parts.length).toBeGreaterThan(0);
    expect(Buffer.concat(parts).toString('utf8')).toMatch(/bosminer/);
  });

  it('a cancelled status stream releases its miner subscription', async () => {
    const miner = fleet.miner('sim-0001');
    const before = miner.subscriberCount;
    const client = c.client('MinerService') as unknown as grpc.Client & {
      GetMinerStatus(req: object, md: grpc.Metadata): grpc.ClientReadableStream<{ status: string }>;
    };
    const stream = client.GetMinerStatus({}, c.md);
    const ended = new Promise<grpc.ServiceError | null>(resolve => {
      stream.on('error', (e: grpc.ServiceError) => resolve(e));
      stream.on('end', () => resolve(null));
    });
    await once(stream, 'data');
    expect(miner.subscriberCount).toBe(before + 1);
    stream.cancel();
    expect((await ended)?.code).toBe(grpc.status.CANCELLED);
    await waitFor(() => miner.subscriberCount === before, 5_000, 20);
  });

  it('unbind refuses new connections; a token from the authorization header works after rebinding', async () => {
    const address = fleet.miners[2]!;
    const client = open(2);
    // the token as old firmware delivers it: the authorization response header
    const { headers } = await client.call(
      'AuthenticationService',
      'Login',
      { username: 'root', password: 'root' },
      new grpc.Metadata(),
    );
    const token = headers.get('authorization')[0];
    expect(typeof token).toBe('string');
    const md = new grpc.Metadata();
    md.set('authorization', token as string);
    await client.call('MinerService', 'GetMinerStats', {}, md);

    fleet.injectFault(address.id, 'unreachable');
    await fleet.settled();
    const refused = await new Promise<NodeJS.ErrnoException | null>(resolve => {
      const socket = net.connect({ host: address.host, port: address.port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(null);
      });
      socket.once('error', resolve);
    });
    expect(refused?.code).toBe('ECONNREFUSED');
    await expectStatus(client.call('MinerService', 'GetMinerStats', {}, md, 1_000), grpc.status.UNAVAILABLE);

    fleet.clearFault(address.id, 'unreachable');
    await fleet.settled();
    await waitFor(async () => {
      await client.call('MinerService', 'GetMinerStats', {}, md, 1_000);
      return true;
    }, 10_000);
  });
});

describe.each<[SimulatorTransport, string]>([
  ['http2', '127.71.2.1'],
  ['grpc-js', '127.71.3.1'],
])('simulator transport %s: deadlines', (transport, baseAddress) => {
  let fleet: SimulatedFleet;
  let c: MinerClients;

  beforeAll(async () => {
    fleet = await startSimulator({ miners: 1, seed: 'transport', baseAddress, transport });
    c = connect(fleet.miners[0]!.address);
    await c.login();
  });
  afterAll(async () => {
    c.close();
    await fleet.stop();
  });

  it('a call past its grpc-timeout while a slow miner holds it is answered DEADLINE_EXCEEDED and never runs', async () => {
    fleet.injectFault('sim-0001', { kind: 'slow', delay_ms: 600 });
    const err = await expectStatus(
      c.call('AuthenticationService', 'SetPassword', { password: 'changed' }, c.md, 150),
      grpc.status.DEADLINE_EXCEEDED,
    );
    expect(err.code).toBe(grpc.status.DEADLINE_EXCEEDED);
    // a later call on the same miner waits the same delay, so the first one's turn has passed
    await c.call('ApiVersionService', 'GetApiVersion', {}, new grpc.Metadata(), 5_000);
    expect(fleet.miner('sim-0001').password).toBe('root');
    fleet.clearFault('sim-0001', 'slow');
  });
});
