import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { FleetError } from '../../../core/errors.ts';
import { requireRole } from '../../auth/authenticate.ts';
import type { ControlResponse, ControlService, ControlTarget } from '../../../services/control/control-service.ts';
import {
  ControlResponseSchema,
  dryRunOf,
  CoolingBody,
  HashboardsBody,
  HashrateTargetBody,
  MinerActionBody,
  MinerIdParams,
  PoolsBody,
  PowerTargetBody,
  SelectorActionBody,
} from '../../../services/control/http-schemas.ts';
import type { MinerSelector } from '../../../services/control/selector.ts';
import { controlRateLimit } from '../../plugins/rate-limit.ts';
import { errorResponses } from '../../schemas/common.ts';

export interface ControlRouteDeps {
  services: { control: ControlService };
}

const CONTROL_ERRORS = errorResponses(400, 401, 403, 404, 409, 422, 429, 500, 502, 503, 504);
const RESPONSES = { 200: ControlResponseSchema, 202: ControlResponseSchema, ...CONTROL_ERRORS };

function targetOf(b: { selector?: MinerSelector | undefined; id?: string | undefined }): ControlTarget {
  return b.id !== undefined ? { id: b.id } : { selector: b.selector! };
}

/** Strip the routing fields (target, dry_run) from a body, keeping only what was given. */
function fields<T extends object>(body: T, drop: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) if (!drop.includes(k) && v !== undefined) out[k] = v;
  return out;
}

const ROUTING = ['selector', 'id', 'dry_run', 'dryRun'];

async function send(reply: FastifyReply, r: ControlResponse): Promise<ControlResponse> {
  reply.code(r.mode === 'job' ? 202 : 200);
  return r;
}

/**
 * Control routes (operator role, control rate limit). One miner runs inline (200 with its
 * result); several become a batch job (202 with the job; follow /api/v1/jobs/{id}/events).
 * `dry_run: true` answers the plan and changes nothing (`dryRun`: deprecated alias, one release).
 */
export function controlRoutes(deps: ControlRouteDeps): FastifyPluginAsyncZod {
  const { control } = deps.services;
  return async app => {
    const common = { onRequest: requireRole('operator'), config: controlRateLimit };

    app.post(
      '/miners/:id/actions',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary:
            'Run an action on one miner (reboot, restart, pause, resume, stop, start, locate_on, locate_off).',
          params: MinerIdParams,
          body: MinerActionBody,
          response: RESPONSES,
        },
      },
      async (req, reply) =>
        send(
          reply,
          await control.execute(
            req.caller,
            { id: req.params.id },
            { kind: 'action', action: req.body.action },
            { dryRun: dryRunOf(req.body) },
          ),
        ),
    );

    app.post(
      '/control/actions',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary: 'Run an action on the miners of a selector (a batch job when more than one).',
          body: SelectorActionBody,
          response: RESPONSES,
        },
      },
      async (req, reply) =>
        send(
          reply,
          await control.execute(
            req.caller,
            { selector: req.body.selector },
            { kind: 'action', action: req.body.action },
            { dryRun: dryRunOf(req.body) },
          ),
        ),
    );

    app.post(
      '/control/power-target',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary:
            "Set the power target: absolute watts, a delta, or a percentage of the miner's nominal/current/min/max; checked against each miner's own limits.",
          body: PowerTargetBody,
          response: RESPONSES,
        },
      },
      async (req, reply) =>
        send(
          reply,
          await control.execute(
            req.caller,
            targetOf(req.body),
            { kind: 'power_target', ...fields(req.body, ROUTING) },
            { dryRun: dryRunOf(req.body) },
          ),
        ),
    );

    app.post(
      '/control/hashrate-target',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary:
            "Set the hashrate target (TH/s absolute, delta, or percentage of a reference); checked against each miner's limits.",
          body: HashrateTargetBody,
          response: RESPONSES,
        },
      },
      async (req, reply) =>
        send(
          reply,
          await control.execute(
            req.caller,
            targetOf(req.body),
            { kind: 'hashrate_target', ...fields(req.body, ROUTING) },
            { dryRun: dryRunOf(req.body) },
          ),
        ),
    );

    app.put(
      '/control/pools',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary:
            'Replace all pool groups, or create / update / remove one group. Pool passwords are sent to the miners and never returned.',
          body: PoolsBody,
          response: RESPONSES,
        },
      },
      async (req, reply) => {
        const b = req.body;
        const given = (k: 'groups' | 'group' | 'uid'): boolean => b[k] !== undefined;
        const need: Record<typeof b.op, 'groups' | 'group' | 'uid'> = {
          replace: 'groups',
          create: 'group',
          update: 'group',
          remove: 'uid',
        };
        const want = need[b.op];
        // Every problem at once, each naming its field (a client fixes them in one round).
        const fields: { field: string; message: string }[] = [];
        if (!given(want)) fields.push({ field: `body.${want}`, message: `op=${b.op} needs ${want}` });
        for (const k of (['groups', 'group', 'uid'] as const).filter(x => x !== want && given(x)))
          fields.push({ field: `body.${k}`, message: `${k} is not used with op=${b.op} (it needs ${want})` });
        if (fields.length > 0)
          throw new FleetError('invalid_argument', fields.map(f => `${f.field}: ${f.message}`).join('; '), {
            details: { fields },
          });
        const request = { kind: 'pools', op: b.op, [want]: b[want] };
        return send(reply, await control.execute(req.caller, targetOf(b), request, { dryRun: dryRunOf(b) }));
      },
    );

    app.post(
      '/control/cooling',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary:
            'Set the cooling mode: auto (target/hot/dangerous °C), manual (fan speed ratio) or immersion.',
          body: CoolingBody,
          response: RESPONSES,
        },
      },
      async (req, reply) =>
        send(
          reply,
          await control.execute(
            req.caller,
            targetOf(req.body),
            { kind: 'cooling', ...fields(req.body, ROUTING) },
            { dryRun: dryRunOf(req.body) },
          ),
        ),
    );

    app.post(
      '/control/hashboards',
      {
        ...common,
        schema: {
          tags: ['control'],
          summary: 'Enable or disable hashboards by id.',
          body: HashboardsBody,
          response: RESPONSES,
        },
      },
      async (req, reply) =>
        send(
          reply,
          await control.execute(
            req.caller,
            targetOf(req.body),
            { kind: 'hashboards', ...fields(req.body, ROUTING) },
            { dryRun: dryRunOf(req.body) },
          ),
        ),
    );
  };
}
