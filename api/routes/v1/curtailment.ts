import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { requireRole } from '../../auth/authenticate.ts';
import { controlRateLimit } from '../../plugins/rate-limit.ts';
import type { EnergyService } from '../../../services/energy/energy-service.ts';
import {
  DemandResponseBody,
  ExecutionIdParams,
  ExecutionListQuery,
  ExecutionListSchema,
  ExecutionSchema,
  PlanAnswerSchema,
  PlanQuery,
  PolicyIdParams,
  PolicyListSchema,
  PolicyRemovedSchema,
  SignalAnswerSchema,
  StoredPolicySchema,
} from '../../../services/energy/http-schemas.ts';
import { policyInputSchema } from '../../../services/energy/policy-record.ts';
import { READ_ERRORS, errorResponses } from '../../schemas/common.ts';

export interface EnergyRouteDeps {
  services: { energy: EnergyService };
}

const PolicyBody = policyInputSchema.omit({ id: true });

/**
 * The services answer typed interfaces; the response schemas are loose objects (they keep
 * fields they do not list), which TypeScript cannot match with interfaces without an index
 * signature. The value is what the schema describes.
 */
const as = <S extends z.ZodType>(_schema: S, v: unknown): z.output<S> => v as z.output<S>;

/** Curtailment: policies (viewer reads, operator writes), dry-run plans, demand response, executions. */
export function curtailmentRoutes(deps: EnergyRouteDeps): FastifyPluginAsyncZod {
  const { energy } = deps.services;
  return async app => {
    app.get(
      '/energy/policies',
      { schema: { tags: ['energy'], summary: 'Your curtailment policies.', response: { 200: PolicyListSchema, ...READ_ERRORS } } },
      async req => {
        const items = await energy.listPolicies(req.caller);
        return as(PolicyListSchema, { items, total: items.length });
      },
    );

    app.get(
      '/energy/policies/:id',
      { schema: { tags: ['energy'], summary: 'One curtailment policy.', params: PolicyIdParams, response: { 200: StoredPolicySchema, ...READ_ERRORS, ...errorResponses(404) } } },
      async req => as(StoredPolicySchema, await energy.getPolicy(req.caller, req.params.id)),
    );

    app.put(
      '/energy/policies/:id',
      {
        onRequest: requireRole('operator'),
        config: controlRateLimit,
        schema: {
          tags: ['energy'],
          summary: 'Create or replace a curtailment policy: selector, strike price, target (kW cap or percent), order, method per model, ramp, minimum on/off times, exemptions, price source and fallback.',
          params: PolicyIdParams,
          body: PolicyBody,
          response: { 200: StoredPolicySchema, ...READ_ERRORS },
        },
      },
      async req => as(StoredPolicySchema, await energy.putPolicy(req.caller, { ...req.body, id: req.params.id })),
    );

    app.delete(
      '/energy/policies/:id',
      {
        onRequest: requireRole('operator'),
        config: controlRateLimit,
        schema: { tags: ['energy'], summary: 'Delete a policy; a window it is running is ended first (miners restored within the ramp).', params: PolicyIdParams, response: { 200: PolicyRemovedSchema, ...READ_ERRORS, ...errorResponses(404) } },
      },
      async req => energy.deletePolicy(req.caller, req.params.id),
    );

    app.get(
      '/energy/policies/:id/plan',
      {
        schema: {
          tags: ['energy'],
          summary: 'Dry run: the curtailment plan for the known price curve (which miners, when, kW and TH/s, cost saved, revenue forgone). Changes nothing.',
          params: PolicyIdParams,
          querystring: PlanQuery,
          response: { 200: PlanAnswerSchema, ...READ_ERRORS, ...errorResponses(404) },
        },
      },
      async req => as(PlanAnswerSchema, await energy.plan(req.caller, req.params.id, req.query.horizon_hours !== undefined ? { horizon_hours: req.query.horizon_hours } : {})),
    );

    app.post(
      '/energy/demand-response',
      {
        onRequest: requireRole('operator'),
        config: controlRateLimit,
        schema: {
          tags: ['energy'],
          summary: 'Demand response: cap a site to X kW (or reduce it by X %) for Y minutes, within the policy\'s ramp; dry_run answers the plan only.',
          body: DemandResponseBody,
          response: { 200: SignalAnswerSchema, 201: SignalAnswerSchema, ...READ_ERRORS, ...errorResponses(404, 409, 412) },
        },
      },
      async (req, reply) => {
        const r = await energy.signal(req.caller, req.body.signal, { dry_run: req.body.dry_run, ...(req.body.policy_id ? { policy_id: req.body.policy_id } : {}) });
        if (!r.dry_run) reply.code(201);
        return as(SignalAnswerSchema, r);
      },
    );

    app.get(
      '/energy/executions',
      { schema: { tags: ['energy'], summary: 'Curtailment executions (price windows and demand-response signals), newest first.', querystring: ExecutionListQuery, response: { 200: ExecutionListSchema, ...READ_ERRORS } } },
      async req => {
        const items = await energy.listExecutions(req.caller, req.query.limit !== undefined ? { limit: req.query.limit } : {});
        return as(ExecutionListSchema, { items, total: items.length });
      },
    );

    app.get(
      '/energy/executions/:id',
      { schema: { tags: ['energy'], summary: 'One execution with its steps, the jobs they ran and the outcome per miner (curtail and restore, attempts).', params: ExecutionIdParams, response: { 200: ExecutionSchema, ...READ_ERRORS, ...errorResponses(404) } } },
      async req => as(ExecutionSchema, await energy.getExecution(req.caller, req.params.id)),
    );
  };
}
