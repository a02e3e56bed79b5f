import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

/** Static files, read once at start: our own CSS/JS and the two libraries, straight from node_modules (no build step). */
const FILES: Record<string, { path: string; type: string }> = {
  'console.css': { path: join(here, 'assets', 'console.css'), type: 'text/css; charset=utf-8' },
  'console.js': { path: join(here, 'assets', 'console.js'), type: 'text/javascript; charset=utf-8' },
  'htmx.min.js': { path: require.resolve('htmx.org/dist/htmx.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.iife.min.js': { path: join(dirname(require.resolve('uplot')), 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uPlot.min.css': { path: join(dirname(require.resolve('uplot')), 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
};

export function registerAssets(app: FastifyInstance): void {
  const loaded = new Map(Object.entries(FILES).map(([name, f]) => [name, { body: readFileSync(f.path), type: f.type }]));
  app.get('/assets/:name', { config: { consolePublic: true } }, async (req, reply) => {
    const { name } = req.params as { name: string };
    const f = loaded.get(name);
    if (!f) return reply.code(404).type('text/plain').send(`no asset ${name}`);
    return reply.type(f.type).header('cache-control', 'public, max-age=3600').send(f.body);
  });
}
