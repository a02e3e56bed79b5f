import PQueue from 'p-queue';
import { MinerClient } from '../miner-client.ts';
import type { InventoryMiner } from './schema.ts';

/** Expand an IPv4 CIDR to host addresses (network and broadcast excluded for prefixes < 31). */
export function expandCidr(cidr: string): string[] {
  const [base, bitsText] = cidr.split('/');
  const bits = Number(bitsText);
  const octets = (base ?? '').split('.').map(Number);
  if (octets.length !== 4 || octets.some(o => !Number.isInteger(o) || o < 0 || o > 255) || !Number.isInteger(bits) || bits < 16 || bits > 32) {
    throw new Error(`invalid CIDR '${cidr}': expected a.b.c.d/n with n between 16 and 32`);
  }
  const ip = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const size = 2 ** (32 - bits);
  const start = (ip & ~(size - 1)) >>> 0;
  const first = bits >= 31 ? start : start + 1;
  const last = bits >= 31 ? start + size - 1 : start + size - 2;
  const out: string[] = [];
  for (let a = first; a <= last; a++) out.push([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255].join('.'));
  return out;
}

export interface ScanTarget {
  cidr: string;
  port: number;
  tenant: string;
  site: string;
  credentials: string;
  labels: Record<string, string>;
}

export interface ScanResult {
  found: InventoryMiner[];
  probed: number;
  durationMs: number;
}

/**
 * Probe every address of a CIDR with `GetApiVersion` (no auth, short deadline, bounded
 * concurrency). A miner that answers is added with id = its address; the poller learns its
 * uid from GetMinerDetails.
 */
export async function scanCidr(target: ScanTarget, opts: { concurrency: number; timeoutMs: number; signal?: AbortSignal }): Promise<ScanResult> {
  const started = Date.now();
  const hosts = expandCidr(target.cidr);
  const queue = new PQueue({ concurrency: opts.concurrency });
  const found: InventoryMiner[] = [];
  await Promise.all(
    hosts.map(host =>
      queue.add(async () => {
        if (opts.signal?.aborted) return;
        const client = new MinerClient({ minerId: host, host, port: target.port, credentials: { username: '', password: '' }, timeoutMs: opts.timeoutMs, keepaliveMs: 0 });
        try {
          await client.probe({ timeoutMs: opts.timeoutMs });
          found.push({ id: `${host}:${target.port}`, host, port: target.port, tenant: target.tenant, site: target.site, credentials: target.credentials, labels: { ...target.labels, discovered: 'scan' }, source: 'scan' });
        } catch {
          // Nothing answering there is the common case of a scan, not an error.
        } finally {
          client.close();
        }
      }),
    ),
  );
  found.sort((a, b) => a.id.localeCompare(b.id, undefined, { numeric: true }));
  return { found, probed: hosts.length, durationMs: Date.now() - started };
}
