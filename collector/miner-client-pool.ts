import type { CredentialStore } from './credentials.ts';
import { MinerClient } from './miner-client.ts';

export interface PooledMiner {
  id: string;
  host: string;
  port: number;
  credentials: string;
}

/**
 * One lazily created MinerClient per miner id, shared by the poller and the control
 * service. A changed address or credential name replaces the client.
 */
export class MinerClientPool {
  private readonly clients = new Map<string, { client: MinerClient; key: string }>();
  private readonly creds: Pick<CredentialStore, 'resolve'>;
  private readonly timeoutMs: number;

  /** creds: a poll thread resolves through the main thread (collector/poll-worker.ts) */
  constructor(creds: Pick<CredentialStore, 'resolve'>, opts: { timeoutMs?: number } = {}) {
    this.creds = creds;
    this.timeoutMs = opts.timeoutMs ?? 5_000;
  }

  get(m: PooledMiner): MinerClient {
    const key = `${m.host}:${m.port}|${m.credentials}`;
    const existing = this.clients.get(m.id);
    if (existing && existing.key === key) return existing.client;
    existing?.client.close();
    const client = new MinerClient({
      minerId: m.id,
      // canonical IPv6 hosts (endpoint.ts) are bare; a connect address needs them in brackets
      host: m.host.includes(':') && !m.host.startsWith('[') ? `[${m.host}]` : m.host,
      port: m.port,
      timeoutMs: this.timeoutMs,
      credentials: () => this.creds.resolve(m.credentials),
    });
    this.clients.set(m.id, { client, key });
    return client;
  }

  evict(id: string): void {
    this.clients.get(id)?.client.close();
    this.clients.delete(id);
  }

  /** Drop clients of miners no longer in the inventory. */
  retain(ids: Set<string>): void {
    for (const id of this.clients.keys()) if (!ids.has(id)) this.evict(id);
  }

  get size(): number {
    return this.clients.size;
  }

  closeAll(): void {
    for (const { client } of this.clients.values()) client.close();
    this.clients.clear();
  }
}
