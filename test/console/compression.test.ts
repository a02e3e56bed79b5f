import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AnswerCache } from '../../console/answer-cache.ts';
import { acceptedEncoding, compress } from '../../console/compression.ts';

describe('console compression', () => {
  it('picks brotli over gzip, honours q=0 and answers null when neither is accepted', () => {
    expect(acceptedEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(acceptedEncoding('gzip, br;q=0')).toBe('gzip');
    expect(acceptedEncoding('br;q=0, gzip;q=0')).toBeNull();
    expect(acceptedEncoding('identity')).toBeNull();
    expect(acceptedEncoding(undefined)).toBeNull();
    expect(acceptedEncoding('*')).toBe('gzip');
  });

  it('round-trips a page through both encodings', () => {
    const page = Buffer.from('<tr><td>sim-0001</td></tr>\n'.repeat(500));
    expect(brotliDecompressSync(compress(page, 'br', 'fast')).equals(page)).toBe(true);
    expect(gunzipSync(compress(page, 'gzip', 'max')).equals(page)).toBe(true);
    expect(compress(page, 'br', 'fast').length).toBeLessThan(page.length / 10);
  });
});

describe('console answer cache', () => {
  it('shares an answer while fresh, reloads after, and does not keep a failure', async () => {
    const cache = new AnswerCache<number>({ freshMs: 1_000, maxEntries: 2 });
    let loads = 0;
    const load = async (): Promise<number> => ++loads;
    expect(await cache.get('a', load, 0)).toBe(1);
    expect(await cache.get('a', load, 999)).toBe(1);
    expect(await cache.get('a', load, 1_000)).toBe(2);
    await expect(cache.get('b', () => Promise.reject(new Error('influx down')), 0)).rejects.toThrow('influx down');
    expect(await cache.get('b', load, 1)).toBe(3);
    // at most maxEntries: the oldest goes first
    await cache.get('c', load, 2);
    expect(await cache.get('a', load, 1_001)).toBe(5);
  });
});
