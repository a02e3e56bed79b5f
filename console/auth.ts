import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import { FleetError, isFleetError } from '../core/errors.ts';
import { noAuthCaller } from '../api/auth/verifier.ts';
import { hasRole, type Caller } from '../services/context.ts';
import { html } from './html.ts';
import { page } from './layout.ts';
import { newSecret, sameSecret, SESSION_MAX_MS, type ConsoleSession, type ConsoleSessions } from './sessions.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** the console session of the request, set by the console's onRequest hook (null: not logged in) */
    consoleSession: ConsoleSession | null;
    consoleSessionId: string | null;
  }
  interface FastifyContextConfig {
    /** console routes reachable without a session (login page, assets) */
    consolePublic?: boolean;
  }
}

export const SESSION_COOKIE = 'bosfleet_session';
const LOGIN_CSRF_COOKIE = 'bosfleet_login';

export function cookies(req: FastifyRequest): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i < 0) continue;
    out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

/** HttpOnly (scripts cannot read it), SameSite=Strict (no cross-site request carries it), Secure over HTTPS. */
function cookie(req: FastifyRequest, name: string, value: string, maxAgeS: number): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${name}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
}

/** A form field (the console's urlencoded parser gives string or string[]). */
export function field(body: unknown, name: string): string | undefined {
  const v = (body as Record<string, unknown> | null)?.[name];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return undefined;
}

/**
 * A state-changing request must come from our own pages: the browser's Origin (or, without it,
 * Sec-Fetch-Site) must say same origin. This holds even before a session exists (the login form).
 */
function checkOrigin(req: FastifyRequest): void {
  const origin = req.headers.origin;
  const expected = `${req.protocol}://${req.host}`;
  if (origin !== undefined) {
    if (origin !== expected)
      throw new FleetError('forbidden', `cross-origin request refused (Origin ${origin}, expected ${expected})`);
    return;
  }
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new FleetError('forbidden', `cross-site request refused (Sec-Fetch-Site: ${String(site)})`);
}

/** The session's CSRF token, from the form field `_csrf` or the `x-csrf-token` header (script requests). */
function checkCsrf(req: FastifyRequest, session: ConsoleSession): void {
  const given = field(req.body, '_csrf') ?? (req.headers['x-csrf-token'] as string | undefined);
  if (given === undefined || !sameSecret(given, session.csrf))
    throw new FleetError('forbidden', 'the form has expired or did not come from this console; reload the page and try again');
}

export interface AuthDeps {
  sessions: ConsoleSessions;
  authNone: boolean;
  noneCaller: Caller;
}

/** Session lookup on every console request; CSRF and origin checks on every non-GET. */
export function installSessionHooks(app: FastifyInstance, d: AuthDeps): void {
  app.decorateRequest('consoleSession', null);
  app.decorateRequest('consoleSessionId', null);
  app.addHook('onRequest', async (req, reply) => {
    const id = cookies(req)[SESSION_COOKIE];
    const session = id ? await d.sessions.get(id) : null;
    req.consoleSession = session;
    req.consoleSessionId = session ? id! : null;
    if (session) req.caller = session.caller;
    reply.header('cache-control', 'no-store');
    if (req.routeOptions.config.consolePublic) return;
    if (!session) {
      if (req.method === 'GET') {
        const next = req.url.startsWith('/') && !req.url.startsWith('//') ? req.url : '/';
        return reply.redirect(`/login?next=${encodeURIComponent(next)}`, 303);
      }
      throw new FleetError('unauthenticated', 'your console session has ended; log in again');
    }
    if (!hasRole(session.caller, 'viewer')) throw new FleetError('forbidden', 'this login grants no bos-fleet role');
  });
  app.addHook('preHandler', async req => {
    if (req.method === 'GET' || req.method === 'HEAD') return;
    checkOrigin(req);
    if (req.routeOptions.config.consolePublic) return;
    checkCsrf(req, req.consoleSession!);
  });
}

function loginPage(req: FastifyRequest, reply: FastifyReply, d: AuthDeps, next: string, error?: string): string {
  const csrf = newSecret();
  reply.header('set-cookie', cookie(req, LOGIN_CSRF_COOKIE, csrf, 600));
  return page(
    'Log in',
    { session: null, path: '/login' },
    html`${error ? html`<p class="error" role="alert">${error}</p>` : ''}
<form method="post" action="/login" class="login">
  <input type="hidden" name="_login" value="${csrf}">
  <input type="hidden" name="next" value="${next}">
  ${
    d.authNone
      ? html`<p>Authentication is off (AUTH_MODE=none): you act as ${d.noneCaller.sub} of tenant ${d.noneCaller.tenant}.</p>`
      : html`<label for="token">API token (JWT)</label>
  <textarea id="token" name="token" rows="4" required autocomplete="off" spellcheck="false"></textarea>
  <p class="muted">Paste a token from your identity provider or <code>bos-fleet token</code>, or open the one-time login link it printed.</p>`
  }
  <button type="submit">Log in</button>
</form>`,
  ).text;
}

const safeNext = (v: string | undefined): string => (v && /^\/(?!\/)[^\s]*$/.test(v) && !v.startsWith('/login') ? v : '/');

export function registerLoginRoutes(app: FastifyInstance, d: AuthDeps): void {
  const startSession = async (req: FastifyRequest, reply: FastifyReply, caller: Caller, expiresMs: number, next: string): Promise<FastifyReply> => {
    if (req.consoleSessionId) await d.sessions.destroy(req.consoleSessionId);
    const { id, session } = await d.sessions.create(caller, expiresMs);
    const maxAgeS = Math.max(1, Math.floor((session.expires_ms - Date.now()) / 1000));
    reply.header('set-cookie', [cookie(req, SESSION_COOKIE, id, maxAgeS), cookie(req, LOGIN_CSRF_COOKIE, '', 0)]);
    req.log.info({ sub: caller.sub, tenant: caller.tenant, roles: caller.roles }, 'console login');
    return reply.redirect(next, 303);
  };

  /** Verify a JWT and turn it into a session that ends no later than the token. */
  const fromToken = async (req: FastifyRequest, reply: FastifyReply, token: string, next: string): Promise<FastifyReply | string> => {
    let caller: Caller;
    try {
      caller = d.authNone ? d.noneCaller : await app.verifyToken(token);
    } catch (err) {
      if (isFleetError(err) && err.code === 'unauthenticated') {
        reply.code(401).type('text/html');
        return loginPage(req, reply, d, next, `That token was not accepted: ${err.message}`);
      }
      throw err;
    }
    if (!hasRole(caller, 'viewer')) {
      reply.code(403).type('text/html');
      return loginPage(req, reply, d, next, 'That token grants no bos-fleet role (viewer, operator or admin).');
    }
    const exp = d.authNone ? undefined : decodeJwt(token).exp;
    return await startSession(req, reply, caller, exp ? exp * 1000 : Date.now() + SESSION_MAX_MS, next);
  };

  app.get('/login', { config: { consolePublic: true } }, async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const next = safeNext(q.next);
    reply.header('referrer-policy', 'no-referrer');
    if (typeof q.code === 'string') {
      const token = await d.sessions.redeemLoginCode(q.code);
      if (token === null) {
        reply.code(401).type('text/html');
        return loginPage(req, reply, d, next, 'That login link has been used or has expired; ask for a new one (bos-fleet token … --login-link) or paste a token.');
      }
      return await fromToken(req, reply, token, next);
    }
    if (req.consoleSession) return reply.redirect(next, 303);
    reply.type('text/html');
    return loginPage(req, reply, d, next);
  });

  app.post('/login', { config: { consolePublic: true } }, async (req, reply) => {
    // Double-submit: the login form's hidden field must match the cookie set with the form.
    const given = field(req.body, '_login');
    const expected = cookies(req)[LOGIN_CSRF_COOKIE];
    const next = safeNext(field(req.body, 'next'));
    if (!given || !expected || !sameSecret(given, expected)) {
      reply.code(403).type('text/html');
      return loginPage(req, reply, d, next, 'The login form expired; try again.');
    }
    const token = (field(req.body, 'token') ?? '').trim();
    if (!d.authNone && token === '') {
      reply.code(400).type('text/html');
      return loginPage(req, reply, d, next, 'Paste an API token (a JWT) to log in.');
    }
    return await fromToken(req, reply, token, next);
  });

  app.post('/logout', async (req, reply) => {
    if (req.consoleSessionId) await d.sessions.destroy(req.consoleSessionId);
    reply.header('set-cookie', cookie(req, SESSION_COOKIE, '', 0));
    return reply.redirect('/login', 303);
  });
}

export { noAuthCaller };
