import type { FastifyError, FastifyInstance, FastifyPluginAsync } from 'fastify';
import { isFleetError } from '../core/errors.ts';
import { noAuthCaller } from '../api/auth/verifier.ts';
import type { ControlPlane } from '../services/control/index.ts';
import { HTTP_STATUS } from '../api/errors.ts';
import type { FleetQuery } from '../services/query/fleet-query.ts';
import { registerAssets } from './assets.ts';
import { installPageCompression } from './compression.ts';
import { installSessionHooks, registerLoginRoutes } from './auth.ts';
import { errorPage } from './layout.ts';
import { registerActionRoutes } from './pages/actions.ts';
import { registerEnergyPage } from './pages/energy.ts';
import { registerEventsPage } from './pages/events.ts';
import { registerFleetPage } from './pages/fleet.ts';
import { registerJobPages } from './pages/jobs.ts';
import { registerMinerPage } from './pages/miner.ts';
import { registerMinersPage } from './pages/miners.ts';
import { registerRackMap } from './pages/racks.ts';
import { registerRolloutPages } from './pages/rollouts.ts';
import { registerSchedulesPage } from './pages/schedules.ts';
import { registerCurtailmentPage } from './pages/curtailment.ts';
import { ConsoleSessions } from './sessions.ts';

export interface ConsoleOptions {
  /** the same FleetQuery the REST routes use */
  fleetQuery: FleetQuery;
  /** the control plane (control, jobs); without it the console is read-only */
  plane?: ControlPlane | undefined;
}

/** Parse application/x-www-form-urlencoded bodies; repeated names (checkboxes) become arrays. */
function parseForm(body: string): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    const prev = out[k];
    out[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return out;
}

/**
 * The web console: server-rendered pages at the root of the API (/, /miners, /jobs, …) over
 * the same services as REST, with cookie sessions instead of bearer tokens.
 */
export const consoleRoutes: FastifyPluginAsync<ConsoleOptions> = async (app: FastifyInstance, o) => {
  const config = app.infra.config;
  const sessions = new ConsoleSessions(app.infra.store.sessions);
  const deps = { sessions, authNone: config.AUTH_MODE === 'none', noneCaller: noAuthCaller(config) };

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 1_048_576 }, (_req, body, done) => {
    done(null, parseForm(body as string));
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) {
      reply.header('content-security-policy', "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
      reply.header('x-frame-options', 'DENY');
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'same-origin');
    }
    return payload;
  });
  installPageCompression(app);
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = isFleetError(err) ? HTTP_STATUS[err.code] : typeof err.statusCode === 'number' && err.statusCode < 500 ? err.statusCode : 500;
    if (status >= 500) req.log.error({ err, url: req.url }, 'console: error');
    const title = status === 404 ? 'Not found' : status === 403 ? 'Not allowed' : status === 401 ? 'Logged out' : status >= 500 ? 'Something went wrong' : 'Cannot do that';
    const message = status >= 500 && !isFleetError(err) ? 'internal error; the server log has the details' : err.message;
    if (req.url.includes('.json')) return reply.code(status).send({ error: { code: isFleetError(err) ? err.code : 'error', message } });
    return reply.code(status).type('text/html').send(errorPage(status, title, message, { session: req.consoleSession, path: req.url }).text);
  });

  installSessionHooks(app, deps);
  registerAssets(app);
  registerLoginRoutes(app, deps);
  registerFleetPage(app, o.fleetQuery);
  registerMinersPage(app, o.fleetQuery);
  registerMinerPage(app, o.fleetQuery);
  registerActionRoutes(app, o.plane);
  registerEventsPage(app, o.fleetQuery);
  registerJobPages(app, o.plane);
  registerRackMap(app, o.fleetQuery);
  registerSchedulesPage(app, o.plane);
  registerEnergyPage(app, app.profitability);
  registerCurtailmentPage(app, o.plane);
  registerRolloutPages(app, o.plane);
};
