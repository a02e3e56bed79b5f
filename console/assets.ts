import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { acceptedEncoding, compress, type Encoding } from './compression.ts';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Static files: our own CSS/JS and uPlot, straight from node_modules (no build step). */
const FILES = {
  'console.css': { path: join(here, 'assets', 'console.css'), type: 'text/css; charset=utf-8' },
  'console.js': { path: join(here, 'assets', 'console.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.iife.min.js': { path: join(dirname(require.resolve('uplot')), 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: join(dirname(require.resolve('uplot')), 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
} as const;
export type AssetName = keyof typeof FILES;

interface LoadedAsset {
  /** /assets/<name>?v=<hash of the content> */
  url: string;
  hash: string;
  type: string;
  bodies: Record<'identity' | Encoding, Buffer>;
}

/**
 * Read and compress (brotli, gzip) every asset once. Pages link them with the content hash in
 * the URL, so a browser may keep them for a year: a changed file is a new URL.
 */
function loadAssets(): Map<string, LoadedAsset> {
  const out = new Map<string, LoadedAsset>();
  for (const [name, f] of Object.entries(FILES)) {
    const body = readFileSync(f.path);
    const hash = createHash('sha256').update(body).digest('base64url').slice(0, 12);
    out.set(name, {
      url: `/assets/${name}?v=${hash}`,
      hash,
      type: f.type,
      bodies: { identity: body, br: compress(body, 'br', 'max'), gzip: compress(body, 'gzip', 'max') },
    });
  }
  return out;
}

let loaded: Map<string, LoadedAsset> | undefined;
const assets = (): Map<string, LoadedAsset> => (loaded ??= loadAssets());

/** The versioned URL of an asset, for links in pages. */
export function assetUrl(name: AssetName): string {
  return assets().get(name)!.url;
}

const YEAR_S = 365 * 86_400;

export function registerAssets(app: FastifyInstance): void {
  const all = assets();
  app.get('/assets/:name', { config: { consolePublic: true } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const { v } = req.query as { v?: string };
    const f = all.get(name);
    if (!f) return reply.code(404).type('text/plain').send(`no asset ${name}`);
    const etag = `"${f.hash}"`;
    // A URL with the current hash never changes; without it (or an old one), revalidate.
    reply.header('cache-control', v === f.hash ? `public, max-age=${YEAR_S}, immutable` : 'public, no-cache');
    reply.header('etag', etag).header('vary', 'accept-encoding');
    if (req.headers['if-none-match'] === etag) return reply.code(304).send();
    const encoding = acceptedEncoding(req.headers['accept-encoding']);
    if (encoding) reply.header('content-encoding', encoding);
    return reply.type(f.type).send(f.bodies[encoding ?? 'identity']);
  });
}
