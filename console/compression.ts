import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { appendServerTiming } from './server-timing.ts';

export type Encoding = 'br' | 'gzip';

/** Bodies smaller than this go out as they are: compressing them saves less than a packet. */
export const COMPRESS_MIN_BYTES = 1_024;

/** The best encoding the client accepts (brotli over gzip), or null; q=0 refuses one. */
export function acceptedEncoding(header: string | string[] | undefined): Encoding | null {
  const accepted = new Set<string>();
  for (const part of String(header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map(p => p.trim()).find(p => p.startsWith('q='));
    if (name && (q === undefined || Number(q.slice(2)) > 0)) accepted.add(name);
  }
  if (accepted.has('br')) return 'br';
  if (accepted.has('gzip') || accepted.has('*')) return 'gzip';
  return null;
}

/**
 * Compress a response body. Static assets are compressed once at start at the highest level;
 * pages on every request at a level that costs ~1 ms for 100 KB of HTML.
 */
export function compress(body: Buffer, encoding: Encoding, level: 'max' | 'fast'): Buffer {
  if (encoding === 'br')
    return brotliCompressSync(body, {
      params: {
        [constants.BROTLI_PARAM_QUALITY]: level === 'max' ? constants.BROTLI_MAX_QUALITY : 4,
        [constants.BROTLI_PARAM_SIZE_HINT]: body.length,
        [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
      },
    });
  return gzipSync(body, { level: level === 'max' ? 9 : 5 });
}

const COMPRESSIBLE = /^(text\/html|application\/json)/;

/**
 * Compress console pages and JSON (chart data) above COMPRESS_MIN_BYTES when the browser
 * accepts it. Assets carry their own precompressed copies (assets.ts); streams are hijacked
 * and never reach onSend.
 */
export function installPageCompression(app: FastifyInstance): void {
  app.addHook('onSend', async (req: FastifyRequest, reply, payload) => {
    if (reply.getHeader('content-encoding') !== undefined) return payload;
    if (typeof payload !== 'string' && !Buffer.isBuffer(payload)) return payload;
    if (!COMPRESSIBLE.test(String(reply.getHeader('content-type') ?? ''))) return payload;
    const vary = reply.getHeader('vary');
    reply.header('vary', vary ? `${String(vary)}, accept-encoding` : 'accept-encoding');
    const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const encoding = acceptedEncoding(req.headers['accept-encoding']);
    if (encoding === null || body.length < COMPRESS_MIN_BYTES) return payload;
    const t0 = performance.now();
    const out = compress(body, encoding, 'fast');
    appendServerTiming(reply, `compress;dur=${(performance.now() - t0).toFixed(1)};desc="${encoding} ${body.length} B"`);
    reply.header('content-encoding', encoding);
    reply.header('content-length', out.length);
    return out;
  });
}
