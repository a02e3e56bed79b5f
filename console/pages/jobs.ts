import type { FastifyInstance } from 'fastify';
import { FleetError } from '../../core/errors.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import { FINAL_STATUSES, type JobDetail, type JobSummary } from '../../services/jobs/types.ts';
import { html, type Html } from '../html.ts';
import { age } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';
import type { ConsoleSession } from '../sessions.ts';

const STREAM_POLL_MS = 1_000;
const STREAM_HEARTBEAT_MS = 15_000;

/** Resolves after ms, or at once when the signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
const isFinal = (j: JobSummary): boolean => FINAL_STATUSES.includes(j.status);

/**
 * The live part of a job page. While the job runs, the page follows /jobs/:id/stream (server-sent
 * events) and swaps in each new version of this fragment (console.js).
 */
function progressView(j: JobDetail, session: ConsoleSession): Html {
  const p = j.progress;
  const live = !isFinal(j);
  return html`<div id="job-progress" data-testid="job-progress" data-status="${j.status}"${live ? html` data-stream="/jobs/${encodeURIComponent(j.id)}/stream"` : ''}>
<p>Status <span class="badge ${j.status === 'succeeded' ? 'online' : live ? 'paused' : 'offline'}" data-testid="job-status">${j.status.replace('_', ' ')}</span>
${p ? html` · ${p.done} of ${p.total} done (${p.ok} ok, ${p.failed} failed${p.skipped ? `, ${p.skipped} skipped` : ''}${p.cancelled ? `, ${p.cancelled} cancelled` : ''})${p.phase ? ` · ${p.phase}` : ''}` : ''}</p>
${p ? html`<progress max="${p.total}" value="${p.done}" aria-label="Job progress">${p.done}/${p.total}</progress>` : ''}
${j.message ? html`<p>${j.message}</p>` : ''}
${live && canControl(session.caller) ? html`<div class="actions" data-testid="job-actions">${
  j.status === 'paused'
    ? html`<form method="post" action="/jobs/${encodeURIComponent(j.id)}/resume">${csrfField(session)}<button type="submit" class="secondary">Resume job</button></form>`
    : j.status === 'queued' || j.status === 'running'
      ? html`<form method="post" action="/jobs/${encodeURIComponent(j.id)}/pause">${csrfField(session)}<button type="submit" class="secondary">Pause job</button></form>`
      : ''
}<form method="post" action="/jobs/${encodeURIComponent(j.id)}/cancel">${csrfField(session)}<button type="submit" class="danger">Cancel job</button></form></div>` : ''}
<h2>Per miner</h2>
<div class="scroll" tabindex="0" role="region" aria-label="Per-miner results"><table data-testid="job-results"><thead><tr><th scope="col">Miner</th><th scope="col">Site</th><th scope="col">Result</th><th scope="col">Message</th></tr></thead>
<tbody>${j.results.map(r => html`<tr><th scope="row"><a href="/miners/${encodeURIComponent(r.id)}">${r.id}</a></th><td>${r.site}</td><td>${r.status}</td><td>${r.message ?? ''}</td></tr>`)}</tbody></table></div>
${j.results_truncated ? html`<p class="muted">Showing ${j.results.length} of ${j.results_total} miners.</p>` : ''}
</div>`;
}

export function registerJobPages(app: FastifyInstance, plane: ControlPlane | undefined): void {
  const streams = new Set<AbortController>();
  app.addHook('onClose', async () => {
    for (const s of streams) s.abort();
  });
  const jobs = (): NonNullable<ControlPlane>['jobs'] => {
    if (!plane) throw new FleetError('unavailable', 'this API runs without the jobs service');
    return plane.jobs;
  };

  app.get('/jobs', async (req, reply) => {
    const session = req.consoleSession!;
    const list = await jobs().list(session.caller, { limit: 100 });
    const body = html`<p class="asof">${list.total} jobs, newest first${canControl(session.caller) && plane ? html` · <a href="/rollouts/new" data-testid="new-rollout">Start a firmware rollout</a>` : ''}</p>
${list.items.length === 0 ? html`<p class="muted">No jobs yet. Batch actions from the miners table and rollouts appear here.</p>` : html`<div class="scroll" tabindex="0" role="region" aria-label="Jobs"><table data-testid="jobs"><thead><tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">By</th><th scope="col">Created</th></tr></thead>
<tbody>${list.items.map(j => html`<tr><th scope="row"><a href="/jobs/${encodeURIComponent(j.id)}">${j.label}</a></th><td>${j.status.replace('_', ' ')}</td><td>${j.progress ? `${j.progress.done}/${j.progress.total}` : '—'}</td><td>${j.created_by}</td><td>${age(iso(j.created_ms))}</td></tr>`)}</tbody></table></div>`}`;
    reply.type('text/html');
    return page('Jobs', { session, path: '/jobs' }, body).text;
  });

  app.get('/jobs/:id', async (req, reply) => {
    const session = req.consoleSession!;
    const { id } = req.params as { id: string };
    const j = await jobs().get(session.caller, id, { resultsLimit: 500 });
    const body = html`<p class="asof">${j.type} · by ${j.created_by} · created ${age(iso(j.created_ms))}${j.finished_ms ? ` · finished ${age(iso(j.finished_ms))}` : ''}</p>
${progressView(j, session)}`;
    reply.type('text/html');
    return page(j.label, { session, path: '/jobs' }, body).text;
  });

  // Server-sent events: the progress fragment each time it changes, then `end` once the job is
  // final. JobService has no change notification, so the stream reads JobService.get every
  // STREAM_POLL_MS (one small read per open job page) and sends only what changed.
  app.get('/jobs/:id/stream', async (req, reply) => {
    const session = req.consoleSession!;
    const { id } = req.params as { id: string };
    const read = (): Promise<JobDetail> => jobs().get(session.caller, id, { resultsLimit: 500 });
    // Tenant and existence are checked before the stream starts (a 404 page otherwise).
    let j = await read();
    const ac = new AbortController();
    streams.add(ac);
    reply.hijack();
    const raw = reply.raw;
    raw.on('close', () => ac.abort());
    raw.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    raw.write('retry: 2000\n\n');
    let sent = '';
    let lastWriteMs = Date.now();
    try {
      for (;;) {
        const fragment = progressView(j, session).text;
        if (fragment !== sent) {
          raw.write(`event: progress\n${fragment.split('\n').map(l => `data: ${l}`).join('\n')}\n\n`);
          sent = fragment;
          lastWriteMs = Date.now();
        } else if (Date.now() - lastWriteMs >= STREAM_HEARTBEAT_MS) {
          raw.write(': heartbeat\n\n');
          lastWriteMs = Date.now();
        }
        if (isFinal(j)) {
          raw.write(`event: end\ndata: ${JSON.stringify({ status: j.status })}\n\n`);
          break;
        }
        await sleep(STREAM_POLL_MS, ac.signal);
        if (ac.signal.aborted) break;
        j = await read();
      }
    } catch (err) {
      if (!ac.signal.aborted) {
        req.log.warn({ err, job: id }, 'console: job progress stream failed');
        raw.write(`event: error\ndata: ${JSON.stringify({ message: 'progress is unavailable; reload the page' })}\n\n`);
      }
    } finally {
      streams.delete(ac);
      raw.end();
    }
  });

  for (const op of ['cancel', 'pause', 'resume'] as const) {
    app.post(`/jobs/:id/${op}`, async (req, reply) => {
      const session = req.consoleSession!;
      const { id } = req.params as { id: string };
      if (!canControl(session.caller)) throw new FleetError('forbidden', `${op === 'cancel' ? 'cancelling' : op === 'pause' ? 'pausing' : 'resuming'} a job needs the operator role`);
      await jobs()[op](session.caller, id);
      return reply.redirect(`/jobs/${encodeURIComponent(id)}`, 303);
    });
  }
}
