import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requireRole } from '../../auth/authenticate.ts';
import { sleep } from '../../../services/control/concurrency.ts';
import {
  JobDetailSchema,
  JobGetQuery,
  JobIdParams,
  JobListQuery,
  JobListSchema,
  JobStepsQuery,
  JobStepsSchema,
  JobSummarySchema,
} from '../../../services/control/http-schemas.ts';
import type { JobService } from '../../../services/jobs/job-service.ts';
import { FINAL_STATUSES } from '../../../services/jobs/types.ts';
import { controlRateLimit } from '../../plugins/rate-limit.ts';
import { READ_ERRORS, errorResponses } from '../../schemas/common.ts';
import { EventStreams } from '../../event-stream.ts';

export interface JobRouteDeps {
  services: { jobs: JobService };
  /** How often the event stream looks for new steps, ms. @defaultValue 500 */
  pollMs?: number;
  /** Comment line sent when nothing happened for this long, ms (keeps proxies from closing the stream). @defaultValue 15000 */
  heartbeatMs?: number;
}

/**
 * Jobs (batch control, firmware rollouts): list, detail with per-miner results, step history,
 * a server-sent events stream of steps, and pause / resume / cancel (operator).
 *
 * GET /jobs/:id/events (text/event-stream): replays the job's steps (from Last-Event-ID, or the
 * `after` query parameter, when given), then sends new ones as they happen:
 *   id: <step id>\nevent: step\ndata: <JobStep JSON>\n\n
 * a `: heartbeat` comment every heartbeatMs without news, and finally
 *   event: end\ndata: {"status":"<final status>"}\n\n
 * when the job has ended; the stream also ends when the client goes away or the server closes.
 */
export function jobRoutes(deps: JobRouteDeps): FastifyPluginAsyncZod {
  const { jobs } = deps.services;
  const pollMs = deps.pollMs ?? 500;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  return async app => {
    const streams = new EventStreams();
    app.addHook('onClose', async () => streams.closeAll());

    app.get(
      '/jobs',
      {
        schema: {
          tags: ['jobs'],
          summary: 'Your jobs, newest first.',
          querystring: JobListQuery,
          response: { 200: JobListSchema, ...READ_ERRORS },
        },
      },
      async req =>
        jobs.list(req.caller, {
          limit: req.query.limit,
          ...(req.query.status ? { status: req.query.status } : {}),
          ...(req.query.type ? { type: req.query.type } : {}),
        }),
    );

    app.get(
      '/jobs/:id',
      {
        schema: {
          tags: ['jobs'],
          summary: 'One job: status, progress, outcome and per-miner results (paged).',
          params: JobIdParams,
          querystring: JobGetQuery,
          response: { 200: JobDetailSchema, ...READ_ERRORS, ...errorResponses(404) },
        },
      },
      async req =>
        jobs.get(req.caller, req.params.id, {
          resultsLimit: req.query.results_limit,
          resultsOffset: req.query.results_offset,
          ...(req.query.result_status ? { resultStatus: req.query.result_status } : {}),
        }),
    );

    app.get(
      '/jobs/:id/steps',
      {
        schema: {
          tags: ['jobs'],
          summary: "A job's step history, oldest first (poll with after=<last id>).",
          params: JobIdParams,
          querystring: JobStepsQuery,
          response: { 200: JobStepsSchema, ...READ_ERRORS, ...errorResponses(404) },
        },
      },
      async req =>
        jobs.steps(req.caller, req.params.id, {
          limit: req.query.limit,
          ...(req.query.after ? { afterId: req.query.after } : {}),
        }),
    );

    app.get(
      '/jobs/:id/events',
      {
        schema: {
          tags: ['jobs'],
          summary:
            'Server-sent events: every step of the job as it happens; ends with an `end` event when the job has finished.',
          params: JobIdParams,
          querystring: JobStepsQuery.pick({ after: true }),
          produces: ['text/event-stream'],
        },
      },
      async (req, reply) => {
        const header = req.headers['last-event-id'];
        let after =
          (typeof header === 'string' && /^\d+-\d+$/.test(header) ? header : undefined) ??
          req.query.after ??
          '0';
        // Checks the tenant and existence before the stream starts (404 as JSON).
        let batch = await jobs.steps(req.caller, req.params.id, { afterId: after });
        const stream = streams.start(reply);
        const { signal } = stream;
        let lastWrite = Date.now();
        try {
          for (;;) {
            for (const s of batch.steps) {
              stream.send('step', JSON.stringify(s), s.id);
              after = s.id;
              lastWrite = Date.now();
            }
            if (FINAL_STATUSES.includes(batch.status) && batch.steps.length === 0) {
              stream.send('end', JSON.stringify({ status: batch.status }));
              break;
            }
            if (signal.aborted) break;
            if (Date.now() - lastWrite >= heartbeatMs) {
              stream.heartbeat();
              lastWrite = Date.now();
            }
            await sleep(batch.steps.length > 0 ? 0 : pollMs, signal);
            if (signal.aborted) break;
            batch = await jobs.steps(req.caller, req.params.id, { afterId: after });
          }
        } catch (err) {
          req.log.warn({ job: req.params.id, err: (err as Error).message }, 'job event stream ended early');
          stream.send('error', JSON.stringify({ message: 'the step stream is unavailable; reconnect with Last-Event-ID' }));
        } finally {
          stream.end();
        }
      },
    );

    const command = { onRequest: requireRole('operator'), config: controlRateLimit };
    const commandSchema = (summary: string) => ({
      tags: ['jobs'],
      summary,
      params: JobIdParams,
      response: { 200: JobSummarySchema, ...READ_ERRORS, ...errorResponses(404, 409) },
    });

    app.post(
      '/jobs/:id/pause',
      { ...command, schema: commandSchema('Pause a job: no new miner or wave starts until resumed.') },
      async req => jobs.pause(req.caller, req.params.id),
    );
    app.post('/jobs/:id/resume', { ...command, schema: commandSchema('Resume a paused job.') }, async req =>
      jobs.resume(req.caller, req.params.id),
    );
    app.post(
      '/jobs/:id/cancel',
      {
        ...command,
        schema: commandSchema(
          'Cancel a job: nothing new starts; in-flight calls finish (batch) or abort (rollout uploads and waits).',
        ),
      },
      async req => jobs.cancel(req.caller, req.params.id),
    );
  };
}
