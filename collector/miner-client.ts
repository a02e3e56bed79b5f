import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { bosServices } from '../proto/loader.ts';
import type { ApiVersion, BosServiceName, BosServices, LoginResponse, MinerStatus } from '../proto/types.ts';
import { FleetError } from './errors.ts';
import { toFleetError } from './grpc-errors.ts';

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
/** A failed call, shaped like grpc-js's ServiceError (code, details, metadata). */
function callError(code: grpc.status, details: string, metadata: grpc.Metadata): grpc.ServiceError {
  return Object.assign(new Error(`${code} ${grpc.status[code]}: ${details}`), { code, details, metadata });
}

export class MinerClient {
  readonly minerId: string;
  readonly address: string;
  private readonly opts: MinerClientOptions;
  private channelClient: grpc.Client | null = null;
  private token: string | null = null;
  private loginInFlight: Promise<string> | null = null;
  private apiVersion: ApiVersion | null = null;

  constructor(opts: MinerClientOptions) {
    this.opts = opts;
    this.minerId = opts.minerId;
    this.address = `${opts.host}:${opts.port ?? 50_051}`;
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
        // Channelz keeps per-call counters, timestamps and trace events for every channel: at
        // thousands of miners that is memory and allocation per RPC that nobody reads.
        'grpc.enable_channelz': 0,
        // The global subchannel pool is swept every 10 s over every miner's subchannel; channels
        // here are never shared, so each keeps its own.
        'grpc.use_local_subchannel_pool': 1,
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

  /**
   * One unary call straight on the channel's call object. Client.makeUnaryRequest adds an
   * interceptor chain, an EventEmitter and a captured stack trace per call; at five RPCs per
   * miner every 10 s that was a measurable share of the collector's CPU and garbage. Same
   * semantics: deadline, metadata, cancellation, and a grpc ServiceError-shaped failure.
   */
  private rawUnary<Res>(def: AnyMethodDef, request: unknown, md: grpc.Metadata, callOpts: CallOptions, onHeaders?: (m: grpc.Metadata) => void): Promise<Res> {
    const timeoutMs = callOpts.timeoutMs ?? this.opts.timeoutMs ?? 5_000;
    return new Promise<Res>((resolve, reject) => {
      const signal = callOpts.signal;
      if (signal?.aborted) {
        reject(callError(grpc.status.CANCELLED, 'Cancelled on client', new grpc.Metadata()));
        return;
      }
      let message: Buffer | null = null;
      const call = this.client().getChannel().createCall(def.path, Date.now() + timeoutMs, null, null, null);
      const abort = (): void => call.cancelWithStatus(grpc.status.CANCELLED, 'Cancelled on client');
      call.start(md, {
        onReceiveMetadata: m => onHeaders?.(m),
        onReceiveMessage: (m: Buffer) => {
          message = m;
        },
        onReceiveStatus: st => {
          signal?.removeEventListener('abort', abort);
          if (st.code !== grpc.status.OK) return reject(callError(st.code, st.details, st.metadata));
          if (message === null) return reject(callError(grpc.status.UNIMPLEMENTED, 'No message received', st.metadata));
          try {
            resolve(def.responseDeserialize(message) as Res);
          } catch (err) {
            reject(callError(grpc.status.INTERNAL, `Response message parsing error: ${(err as Error).message}`, st.metadata));
          }
        },
      });
      signal?.addEventListener('abort', abort, { once: true });
      call.sendMessageWithContext({}, def.requestSerialize(request));
      call.halfClose();
      call.startRead();
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
    if (this.token) return Promise.resolve(this.token);
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

  private async openServerStream(def: AnyMethodDef, request: unknown, signal: AbortSignal | undefined, deadlineMs?: number): Promise<grpc.ClientReadableStream<unknown>> {
    await this.ensureToken({ signal });
    const options: grpc.CallOptions = deadlineMs ? { deadline: Date.now() + deadlineMs } : {};
    const call = this.client().makeServerStreamRequest(def.path, def.requestSerialize, def.responseDeserialize, request, this.metadata(), options);
    if (signal) {
      if (signal.aborted) call.cancel();
      else signal.addEventListener('abort', () => call.cancel(), { once: true });
    }
    return call;
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
        const call = await this.openServerStream(def, {}, signal);
        await new Promise<void>((resolve, reject) => {
          call.on('data', (msg: { status: MinerStatus }) => {
            received = true;
            onStatus(msg.status);
          });
          call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED && signal?.aborted ? resolve() : reject(err)));
          call.on('end', () => resolve());
        });
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
      const call = await this.openServerStream(def, { log_type: logType }, ctl.signal, opts.timeoutMs ?? 15_000);
      const chunks: Buffer[] = [];
      let total = 0;
      let truncated = false;
      await new Promise<void>((resolve, reject) => {
        call.on('data', (msg: { chunk_data: Buffer }) => {
          chunks.push(msg.chunk_data);
          total += msg.chunk_data.length;
          // Keep only the tail: drop whole chunks from the front once over budget.
          while (total - (chunks[0]?.length ?? 0) >= maxBytes && chunks.length > 1) {
            total -= chunks.shift()!.length;
            truncated = true;
          }
        });
        call.on('error', (err: grpc.ServiceError) => (err.code === grpc.status.CANCELLED && ctl.signal.aborted ? resolve() : reject(err)));
        call.on('end', () => resolve());
      });
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

  /** Close the channel; the next call opens a new one. */
  close(): void {
    this.channelClient?.close();
    this.channelClient = null;
  }
}
