// Deterministic pseudo-randomness: everything the simulator invents (identities, fault picks,
// noise on readings) derives from the fleet seed, so two runs with the same seed agree.

/** Final mix of a 32-bit value (lowbias32 by Chris Wellons); returns an unsigned 32-bit integer. */
export function mix32(x: number): number {
  let h = x >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Hash of up to four integers (non-integers are truncated), unsigned 32-bit. Allocation-free. */
export function hash4(a: number, b = 0, c = 0, d = 0): number {
  let h = mix32(a ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul(b | 0, 0x85ebca6b));
  h = mix32(h ^ Math.imul(c | 0, 0xc2b2ae35));
  h = mix32(h ^ Math.imul(d | 0, 0x27d4eb2f));
  return h;
}

/** FNV-1a of a string, mixed; unsigned 32-bit. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return mix32(h);
}

/** Maps a 32-bit hash to [0, 1). */
export function unitFromHash(h: number): number {
  return (h >>> 0) / 4_294_967_296;
}

/** Uniform [0, 1) from up to four integers. */
export function unit4(a: number, b = 0, c = 0, d = 0): number {
  return unitFromHash(hash4(a, b, c, d));
}

/**
 * Deterministic noise in [-1, 1] with a triangular distribution (sum of two uniforms), keyed by
 * seed, miner index, time bucket and channel. Bounded, so "reading within ±x %" holds exactly.
 */
export function noise(seed: number, index: number, bucket: number, channel: number): number {
  const h1 = hash4(seed, index, bucket, channel);
  const h2 = mix32(h1 ^ 0x68e31da4);
  return unitFromHash(h1) + unitFromHash(h2) - 1;
}

/** Seed given as a number or any string → 32-bit integer seed. */
export function seedFrom(seed: number | string): number {
  if (typeof seed === 'number' && Number.isInteger(seed)) return seed >>> 0;
  return hashString(String(seed));
}

/** Small sequential PRNG (mulberry32) for generating identities and picks. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** A string of `length` characters drawn from `alphabet`. */
  chars(length: number, alphabet: string): string {
    let out = '';
    for (let i = 0; i < length; i++) out += alphabet[this.int(alphabet.length)];
    return out;
  }

  /** Fisher–Yates shuffle in place; returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }
}

export const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const UPPER_ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
export const HEX = '0123456789abcdef';
