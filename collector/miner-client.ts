import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { bosServices } from '../proto/loader.ts';
import type { ApiVersion, BosServiceName, BosServices, LoginResponse, MinerStatus } from '../proto/types.ts';
import { FleetError } from '../core/errors.ts';
import { toFleetError } from './grpc-errors.ts';
import { GrpcSession, callError } from './grpc-session.ts';

export interface MinerCredentials {
  username: string;
  password: string;
}

export interface MinerClientOptions {
  /** Miner id used in error messages and logs. */
  minerId: string;
  host: string;
  /** gRPC port. @defaultValue 50051 */
  port?: number;
  /** Resolved lazily on first login, so secrets are read only when needed. */
  credentials: MinerCredentials | (() => MinerCredentials | Promise<MinerCredentials>);
  /** Deadline of every unary call. @defaultValue 5000 */
  timeoutMs?: number;
  /** HTTP/2 keepalive ping interval; 0 disables. @defaultValue 30000 */
  keepaliveMs?: number;
}

type Def<S extends BosServiceName> = BosServices[S]['service'];
type Method<S extends BosServiceName> = keyof Def<S> & string;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyMethodDef = MethodDefinition<any, any, any, any>;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestOf<S extends BosServiceName, M extends Method<S>> = Def<S>[M] extends MethodDefinition<infer Req, any, any, any> ? Req : never;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ResponseOf<S extends BosServiceName, M extends Method<S>> = Def<S>[M] extends MethodDefinition<any, any, any, infer Res> ? Res : never;

export interface CallOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** Minimum API version (major.minor) of RPCs that came after 1.0; calling them on older firmware is `unsupported`. */
const MIN_API: Record<string, [number, number]> = {
  'NetworkService.GetNetworkInfo': [1, 1],
  'MinerService.GetErrors': [1, 2],
  'PoolService.SetPoolGroups': [1, 2],
  'CoolingService.SetCoolingMode': [1, 4],
  'PerformanceService.SetQuickRamping': [1, 7],
  'PerformanceService.SetRelativePowerTarget': [1, 8],
  'PerformanceService.SetRelativeHashrateTarget': [1, 8],
  'UpgradeService.GetAutoUpgradeStatus': [1, 8],
  'UpgradeService.UpdateAutoUpgradeConfig': [1, 8],
  'ActionsService.FactoryReset': [1, 9],
  'UpgradeService.SystemUpgrade': [1, 10],
  'UpgradeService.RestoreStock': [1, 10],
  'MinerService.GetLog': [1, 10],
  'PerformanceService.GetMinerEfficiencyProfile': [1, 11],
};

/** How long before an idle token's expiry it is renewed: a tenth of its lifetime, at most 5 s. */
const renewMarginMs = (lifetimeMs: number): number => Math.min(5_000, lifetimeMs / 10);

const NO_AUTH = new Set(['ApiVersionService.GetApiVersion', 'AuthenticationService.Login']);

export interface UpgradeProgress {
  bytesSent: number;
  totalBytes: number;
}

/**
 * One typed client per miner: a lazily opened channel, a deadline on every call, login with
 * the miner's credentials and one re-login + retry on UNAUTHENTICATED. Every failure is a
 * FleetError (unreachable | timeout | auth_rejected | unsupported | miner_error).
 */
export class MinerClient {
  readonly minerId: string;
  readonly address: string;
  private readonly opts: MinerClientOptions;
  /** unary calls and the status stream: the poll path (grpc-session.ts says why not grpc-js) */
  private readonly session: GrpcSession;
  /** firmware uploads only (a client stream with back-pressure), opened when first needed */
  private channelClient: grpc.Client | null = null;
  private token: string | null = null;
  /** the token's sliding lifetime from Login (`timeout_s`), ms; null when the miner gave none */
  private tokenLifetimeMs: number | null = null;
  /** last time the token was sent (each authenticated call renews it on the miner) */
  private tokenUsedMs = 0;
  private loginInFlight: Promise<string> | null = null;
  private apiVersion: ApiVersion | null = null;

  constructor(opts: MinerClientOptions) {
    this.opts = opts;
    this.minerId = opts.minerId;
    this.address = `${opts.host}:${opts.port ?? 50_051}`;
    this.session = new GrpcSession({ address: this.address, keepaliveMs: opts.keepaliveMs ?? 30_000, maxMessageBytes: 16 * 1024 * 1024 });
  }

  /** API version from the last probe, or null before the first. */
  get knownApiVersion(): ApiVersion | null {
    return this.apiVersion;
  }

  get hasToken(): boolean {
    return this.token !== null;
  }

  private client(): grpc.Client {
    if (!this.channelClient) {
      const keepalive = this.opts.keepaliveMs ?? 30_000;
      this.channelClient = new grpc.Client(this.address, grpc.credentials.createInsecure(), {
        'grpc.keepalive_time_ms': keepalive > 0 ? keepalive : -1,
        'grpc.keepalive_timeout_ms': 10_000,
        'grpc.keepalive_permit_without_calls': 0,
        'grpc.initial_reconnect_backoff_ms': 500,
        'grpc.max_reconnect_backoff_ms': 5_000,
        'grpc.enable_retries': 0,
        'grpc.max_receive_message_length': 16 * 1024 * 1024,
      });
    }
    return this.channelClient;
  }

  private method<S extends BosServiceName>(service: S, method: Method<S>): AnyMethodDef {
    const def = (bosServices()[service].service as unknown as Record<string, AnyMethodDef>)[method];
    if (!def) throw new FleetError('internal', `unknown RPC ${service}.${method}`);
    return def;
  }

  private checkSupported(rpc: string): void {
    const min = MIN_API[rpc];
    const v = this.apiVersion;
    if (!min || !v) return;
    if (v.major < min[0] || (v.major === min[0] && v.minor < min[1])) {
      throw new FleetError(
        'unsupported',
        `miner ${this.minerId} runs API ${v.major}.${v.minor}.${v.patch}; ${rpc} needs ${min[0]}.${min[1]} or newer (upgrade its firmware)`,
        { details: { miner: this.minerId, rpc, api_version: `${v.major}.${v.minor}.${v.patch}` } },
      );
    }
  }

  private metadata(): grpc.Metadata {
    const md = new grpc.Metadata();
    if (this.token) md.set('authorization', this.token);
    return md;
  }

  /** One unary call: deadline, metadata, cancellation, and a grpc ServiceError-shaped failure. */
  private rawUnary<Res>(def: AnyMethodDef, request: unknown, md: grpc.Metadata, callOpts: CallOptions, onHeaders?: (m: grpc.Metadata) => void): Promise<Res> {
    const timeoutMs = callOpts.timeoutMs ?? this.opts.timeoutMs ?? 5_000;
    return new Promise<Res>((resolve, reject) => {
      let message: Buffer | null = null;
      this.session.call(
        { path: def.path, request: def.requestSerialize(request), metadata: md, timeoutMs, ...(callOpts.signal ? { signal: callOpts.signal } : {}) },
        {
          onMessage: m => (message = m),
          ...(onHeaders ? { onHeaders } : {}),
          onEnd: err => {
            if (err) return reject(err);
            if (message === null) return reject(callError(grpc.status.UNIMPLEMENTED, 'No message received'));
            try {
              resolve(def.responseDeserialize(message) as Res);
            } catch (e) {
              reject(callError(grpc.status.INTERNAL, `Response message parsing error: ${(e as Error).message}`));
            }
          },
        },
      );
    });
  }

  /**
   * A server stream: every message to onMessage; resolves when the miner ends it or `signal`
   * aborts, rejects with a ServiceError-shaped failure.
   */
  private async serverStream(def: AnyMethodDef, request: unknown, onMessage: (m: unknown) => void, signal: AbortSignal | undefined, timeoutMs?: number): Promise<void> {
    await this.ensureToken({ ...(signal ? { signal } : {}) });
    await new Promise<void>((resolve, reject) => {
      this.session.call(
        {
          path: def.path,
          request: def.requestSerialize(request),
          metadata: this.metadata(),
          ...(timeoutMs !== undefined ? { timeoutMs } : {}),
          ...(signal ? { signal } : {}),
        },
        {
          onMessage: m => onMessage(def.responseDeserialize(m)),
          onEnd: err => (err && !(err.code === grpc.status.CANCELLED && signal?.aborted) ? reject(err) : resolve()),
        },
      );
    });
  }

  /** Probe the API version (no auth). Remembers it to gate newer RPCs. */
  async probe(callOpts: CallOptions = {}): Promise<ApiVersion> {
    const def = this.method('ApiVersionService', 'GetApiVersion');
    try {
      this.apiVersion = await this.rawUnary<ApiVersion>(def, {}, new grpc.Metadata(), callOpts);
      return this.apiVersion;
    } catch (err) {
      throw toFleetError(err, this.minerId, 'ApiVersionService.GetApiVersion');
    }
  }

  /** Log in and keep the token. The token comes from the body (API >= 1.1) or the `authorization` response header (older firmware). */
  async login(callOpts: CallOptions = {}): Promise<void> {
    this.token = null;
    await this.ensureToken(callOpts);
  }

  private ensureToken(callOpts: CallOptions): Promise<string> {
    // Renew before the miner forgets an idle token, instead of every call failing first.
    if (this.token && this.tokenLifetimeMs !== null && Date.now() - this.tokenUsedMs >= this.tokenLifetimeMs - renewMarginMs(this.tokenLifetimeMs)) this.token = null;
    if (this.token) {
      this.tokenUsedMs = Date.now();
      return Promise.resolve(this.token);
    }
    this.loginInFlight ??= this.doLogin(callOpts).finally(() => {
      this.loginInFlight = null;
    });
    return this.loginInFlight;
  }

  private async doLogin(callOpts: CallOptions): Promise<string> {
    let creds: MinerCredentials;
    try {
      creds = typeof this.opts.credentials === 'function' ? await this.opts.credentials() : this.opts.credentials;
    } catch (err) {
      // A credentials problem on our side still means "cannot log in to this miner".
      throw new FleetError('auth_rejected', `cannot log in to miner ${this.minerId}: ${(err as Error).message}`, { details: { miner: this.minerId }, cause: err });
    }
    const def = this.method('AuthenticationService', 'Login');
    let headerToken: string | null = null;
    let res: LoginResponse;
    try {
      res = await this.rawUnary<LoginResponse>(def, { username: creds.username, password: creds.password }, new grpc.Metadata(), callOpts, md => {
        const v = md.get('authorization')[0];
        if (v !== undefined) headerToken = String(v);
      });
    } catch (err) {
      throw toFleetError(err, this.minerId, 'AuthenticationService.Login');
    }
    const token = res.token || headerToken;
    if (!token) {
      throw new FleetError('auth_rejected', `miner ${this.minerId} accepted the login but returned no token`, { details: { miner: this.minerId } });
    }
    this.token = token;
    this.tokenLifetimeMs = res.timeout_s > 0 ? res.timeout_s * 1000 : null;
    this.tokenUsedMs = Date.now();
    return token;
  }

  /** Any unary RPC of the API, typed from the protos: `unary('MinerService', 'GetMinerStats', {})`. */
  async unary<S extends BosServiceName, M extends Method<S>>(service: S, method: M, request: RequestOf<S, M>, callOpts: CallOptions = {}): Promise<ResponseOf<S, M>> {
    const rpc = `${service}.${method}`;
    this.checkSupported(rpc);
    const def = this.method(service, method);
    if (NO_AUTH.has(rpc)) {
      try {
        return await this.rawUnary(def, request, new grpc.Metadata(), callOpts);
      } catch (err) {
        throw toFleetError(err, this.minerId, rpc);
      }
    }
    try {
      await this.ensureToken(callOpts);
      return await this.rawUnary(def, request, this.metadata(), callOpts);
    } catch (err) {
      if ((err as grpc.ServiceError).code !== grpc.status.UNAUTHENTICATED) throw toFleetError(err, this.minerId, rpc);
    }
    // Token expired or revoked: log in again and retry once.
    try {
      this.token = null;
      await this.ensureToken(callOpts);
      return await this.rawUnary(def, request, this.metadata(), callOpts);
    } catch (err) {
      throw toFleetError(err, this.minerId, rpc);
    }
  }

  /**
   * Subscribe to `GetMinerStatus`: `onStatus` gets the current status, then every change.
   * Resolves when the miner ends the stream or `signal` aborts; rejects with a FleetError
   * on failure (re-logs in once when the token was rejected).
   */
  async watchStatus(onStatus: (status: MinerStatus) => void, signal?: AbortSignal): Promise<void> {
    const rpc = 'MinerService.GetMinerStatus';
    const def = this.method('MinerService', 'GetMinerStatus');
    for (let attempt = 0; ; attempt++) {
      let received = false;
      try {
        await this.serverStream(
          def,
          {},
          msg => {
            received = true;
            onStatus((msg as { status: MinerStatus }).status);
          },
          signal,
        );
        return;
      } catch (err) {
        const unauth = (err as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED;
        if (unauth && attempt === 0 && !received) {
          this.token = null;
          continue;
        }
        throw toFleetError(err, this.minerId, rpc);
      }
    }
  }

  /** Read a bounded tail of one of the miner's logs (`GetLog` stream). */
  async readLog(logType: string, opts: { maxBytes?: number; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<{ text: string; truncated: boolean }> {
    const rpc = 'MinerService.GetLog';
    this.checkSupported(rpc);
    const maxBytes = opts.maxBytes ?? 64 * 1024;
    const def = this.method('MinerService', 'GetLog');
    const run = async (): Promise<{ text: string; truncated: boolean }> => {
      const ctl = new AbortController();
      opts.signal?.addEventListener('abort', () => ctl.abort(), { once: true });
      const chunks: Buffer[] = [];
      let total = 0;
      let truncated = false;
      await this.serverStream(
        def,
        { log_type: logType },
        msg => {
          const { chunk_data } = msg as { chunk_data: Buffer };
          chunks.push(chunk_data);
          total += chunk_data.length;
          // Keep only the tail: drop whole chunks from the front once over budget.
          while (total - (chunks[0]?.length ?? 0) >= maxBytes && chunks.length > 1) {
            total -= chunks.shift()!.length;
            truncated = true;
          }
        },
        ctl.signal,
        opts.timeoutMs ?? 15_000,
      );
      let buf = Buffer.concat(chunks);
      if (buf.length > maxBytes) {
        buf = buf.subarray(buf.length - maxBytes);
        truncated = true;
      }
      return { text: buf.toString('utf8'), truncated };
    };
    try {
      return await run();
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED) {
        this.token = null;
        try {
          return await run();
        } catch (err2) {
          throw toFleetError(err2, this.minerId, rpc);
        }
      }
      throw toFleetError(err, this.minerId, rpc);
    }
  }

  /**
   * Upload a firmware image with `SystemUpgrade` (client stream): metadata first (size,
   * SHA-256), then chunks, honouring back-pressure. Resolves with the miner's `successful`.
   */
  async systemUpgrade(
    image: Buffer,
    opts: { chunkBytes?: number; timeoutMs?: number; signal?: AbortSignal; onProgress?: (p: UpgradeProgress) => void; discardSettings?: boolean } = {},
  ): Promise<boolean> {
    const rpc = 'UpgradeService.SystemUpgrade';
    this.checkSupported(rpc);
    const def = this.method('UpgradeService', 'SystemUpgrade');
    const chunkBytes = opts.chunkBytes ?? 256 * 1024;
    const hash = createHash('sha256').update(image).digest('hex');
    const attempt = async (): Promise<boolean> => {
      await this.ensureToken({ signal: opts.signal });
      return await new Promise<boolean>((resolve, reject) => {
        const call = this.client().makeClientStreamRequest<unknown, { successful: boolean }>(
          def.path,
          def.requestSerialize,
          def.responseDeserialize,
          this.metadata(),
          { deadline: Date.now() + (opts.timeoutMs ?? 10 * 60_000) },
          (err, res) => (err ? reject(err) : resolve(Boolean(res?.successful))),
        );
        opts.signal?.addEventListener('abort', () => call.cancel(), { once: true });
        const write = async (): Promise<void> => {
          const ok = call.write({ metadata: { size: image.length, hash, discard_settings: opts.discardSettings ?? false, disable_cleanup: false } });
          if (!ok) await new Promise(r => call.once('drain', r));
          for (let off = 0; off < image.length; off += chunkBytes) {
            if (opts.signal?.aborted) return;
            const more = call.write({ data: image.subarray(off, Math.min(off + chunkBytes, image.length)) });
            opts.onProgress?.({ bytesSent: Math.min(off + chunkBytes, image.length), totalBytes: image.length });
            if (!more) await new Promise(r => call.once('drain', r));
          }
          call.end();
        };
        write().catch(reject);
      });
    };
    try {
      return await attempt();
    } catch (err) {
      if ((err as grpc.ServiceError).code === grpc.status.UNAUTHENTICATED) {
        this.token = null;
        try {
          return await attempt();
        } catch (err2) {
          throw toFleetError(err2, this.minerId, rpc);
        }
      }
      throw toFleetError(err, this.minerId, rpc);
    }
  }

  /** Close the session (and an upload channel); the next call opens a new one. */
  close(): void {
    this.session.close();
    this.channelClient?.close();
    this.channelClient = null;
  }
}
