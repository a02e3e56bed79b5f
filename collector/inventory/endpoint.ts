import { lookup as dnsLookup } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { FleetError } from '../../core/errors.ts';

/**
 * One spelling per miner endpoint. The resolver behind a connect (getaddrinfo, inet_aton) reads
 * `127.90.1`, `2136604673`, `0x7f5a0001`, `0177.0132.0.01` and `127.90.0.1.` as the same address,
 * and a host name can point anywhere; comparing what users typed lets one device be registered
 * twice. Everything that compares or stores an endpoint goes through here.
 */

export type HostKind = 'ipv4' | 'ipv6' | 'name';

export interface CanonicalHost {
  /** dotted quad, RFC 5952 IPv6 (no brackets, no zone), or a lower-case name without trailing dot */
  host: string;
  kind: HostKind;
}

const MAX_U32 = 0xffff_ffff;

function parseIpv4Part(p: string): number | null {
  if (/^0x[0-9a-f]*$/i.test(p)) return p.length === 2 ? 0 : parseInt(p.slice(2), 16);
  if (/^0[0-7]*$/.test(p)) return parseInt(p, 8);
  if (/^[1-9][0-9]*$/.test(p)) return Number(p);
  return null;
}

/** IPv4 in any form inet_aton accepts (1 to 4 parts, decimal / octal / hex), as a dotted quad; else null. */
export function parseIpv4(text: string): string | null {
  const s = text.endsWith('.') ? text.slice(0, -1) : text;
  const parts = s.split('.');
  if (parts.length < 1 || parts.length > 4) return null;
  const nums: number[] = [];
  for (const p of parts) {
    const n = parseIpv4Part(p);
    if (n === null || !Number.isSafeInteger(n)) return null;
    nums.push(n);
  }
  // Every part but the last is one byte; the last fills the remaining bytes.
  const head = nums.slice(0, -1);
  const last = nums[nums.length - 1]!;
  if (head.some(n => n > 255)) return null;
  const lastBits = 8 * (4 - head.length);
  if (last > (lastBits === 32 ? MAX_U32 : 2 ** lastBits - 1)) return null;
  let value = 0;
  head.forEach((n, i) => (value += n * 2 ** (24 - 8 * i)));
  value += last;
  return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
}

/** IPv6 (optionally in brackets, with a zone) in RFC 5952 form; an IPv4-mapped address as its IPv4. Else null. */
export function parseIpv6(text: string): string | null {
  let s = text;
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  // The zone names an interface of this host, not a different device: it is not part of the identity.
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (!isIPv6(s)) return null;
  // The WHATWG host serializer writes RFC 5952 (lower case, longest zero run compressed).
  const canon = new URL(`http://[${s}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canon);
  if (mapped) {
    const hi = parseInt(mapped[1]!, 16);
    const lo = parseInt(mapped[2]!, 16);
    return [hi >>> 8, hi & 255, lo >>> 8, lo & 255].join('.');
  }
  return canon;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * The canonical spelling of a miner's host, or a FleetError (invalid_argument) saying what is
 * expected. Unspecified addresses (0.0.0.0/8, ::) are refused: a connect to them lands on this host.
 */
export function canonicalHost(text: string): CanonicalHost {
  const raw = text.trim();
  const v4 = parseIpv4(raw);
  if (v4 !== null) {
    if (v4.startsWith('0.'))
      throw new FleetError('invalid_argument', `address '${text}' is not a miner's address (0.0.0.0/8 means this host)`);
    return { host: v4, kind: 'ipv4' };
  }
  const v6 = parseIpv6(raw);
  if (v6 !== null) {
    if (v6 === '::') throw new FleetError('invalid_argument', `address '${text}' is not a miner's address (:: means this host)`);
    return { host: v6, kind: v6.includes(':') ? 'ipv6' : 'ipv4' };
  }
  const name = (raw.endsWith('.') ? raw.slice(0, -1) : raw).toLowerCase();
  const labels = name.split('.');
  if (name.length === 0 || name.length > 253 || !labels.every(l => LABEL.test(l)) || /^[0-9]+$/.test(labels[labels.length - 1]!))
    throw new FleetError(
      'invalid_argument',
      `address '${text}' is neither an IPv4/IPv6 address nor a host name; expected e.g. 10.0.0.11, fd00::11 or miner-11.dc1.example`,
    );
  return { host: name, kind: 'name' };
}

/** `host:port` as a connect target: IPv6 in brackets. */
export function connectAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export type Lookup = (name: string) => Promise<string[]>;

const systemLookup: Lookup = async name => (await dnsLookup(name, { all: true, verbatim: true })).map(a => a.address);

/**
 * The addresses a host stands for, canonical and sorted: an address literal is itself, a name is
 * what the system resolver answers now (within `timeoutMs`). A name that does not resolve is a
 * FleetError `unreachable`.
 */
export async function resolveHost(text: string, opts: { timeoutMs?: number; lookup?: Lookup } = {}): Promise<string[]> {
  const c = canonicalHost(text);
  if (c.kind !== 'name') return [c.host];
  const timeoutMs = opts.timeoutMs ?? 2_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const answers = await Promise.race([
      (opts.lookup ?? systemLookup)(c.host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
    const out = new Set<string>();
    for (const a of answers) {
      const ip = parseIpv4(a) ?? parseIpv6(a);
      if (ip !== null) out.add(ip);
    }
    if (out.size === 0) throw new Error('no addresses');
    return [...out].sort();
  } catch (err) {
    throw new FleetError('unreachable', `host name '${c.host}' does not resolve: ${(err as Error).message}`, { details: { host: c.host } });
  } finally {
    clearTimeout(timer);
  }
}

/** The comparison key of one resolved address and port. */
export function endpointKey(ip: string, port: number): string {
  return connectAddress(ip, port);
}
