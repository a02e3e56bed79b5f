import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../core/errors.ts';

/**
 * JSON bodies, parsed as fastify does, but a key that could poison prototypes (`__proto__`
 * anywhere, `constructor.prototype`) is refused by name. Fastify's own parser refuses them
 * too, but as "Body is not valid JSON", which sends the caller looking for a syntax error.
 */
export function installJsonBodyParser(app: FastifyInstance): void {
  // 'ignore': parse plainly (JSON.parse makes such keys own properties, no poisoning), then look.
  const parse = app.getDefaultJsonParser('ignore', 'ignore');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
    parse(req, String(body), (err, value) => {
      if (err) return done(err, undefined);
      const key = forbiddenKey(value, 'body');
      if (key === null) return done(null, value);
      const name = key.endsWith('.constructor.prototype') ? 'constructor.prototype' : '__proto__';
      const why = `the key '${name}' is refused (it could alter object prototypes); remove it`;
      const refused = new FleetError('invalid_argument', `${key}: ${why}`, { details: { fields: [{ field: key, message: why }] } });
      // Kept off the error's enumerable fields (never echoed): /mcp answers a tool call with its id.
      Object.defineProperty(refused, PARSED_BODY, { value, enumerable: false });
      done(refused, undefined);
    });
  });
}

const PARSED_BODY = Symbol('parsedBody');

/** The body a refused-key error was parsed from (undefined for any other error). */
export function refusedBody(err: unknown): unknown {
  return err && typeof err === 'object' ? (err as Record<symbol, unknown>)[PARSED_BODY] : undefined;
}

/** The path of the first `__proto__` or `constructor.prototype` key, or null. */
export function forbiddenKey(v: unknown, path: string): string | null {
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const k = forbiddenKey(v[i], `${path}.${i}`);
      if (k) return k;
    }
    return null;
  }
  if (v === null || typeof v !== 'object') return null;
  for (const [k, x] of Object.entries(v)) {
    if (k === '__proto__') return `${path}.__proto__`;
    if (k === 'constructor' && x !== null && typeof x === 'object' && Object.hasOwn(x, 'prototype'))
      return `${path}.constructor.prototype`;
    const inner = forbiddenKey(x, `${path}.${k}`);
    if (inner) return inner;
  }
  return null;
}
