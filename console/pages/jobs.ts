import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EventStreams } from '../../api/event-stream.ts';
import { sleep } from '../../services/control/concurrency.ts';
import { FleetError } from '../../core/errors.ts';
import type { ControlPlane } from '../../services/control/index.ts';
import { FINAL_STATUSES, type JobDetail, type JobSummary } from '../../services/jobs/types.ts';
import { html, type Html } from '../html.ts';
import { age } from '../format.ts';
import { canControl, csrfField, page } from '../layout.ts';
import type { ConsoleSession } from '../sessions.ts';

// The stream sends a fragment when the jobs service reports a change (JobService.subscribe). It
// only hears jobs run by this process: on the influx-redis backend another replica or worker may
// run the job, and a job's final status and a pause or cancel come without an event, so the
// stream also reads the job every STREAM_POLL_MS, and soon after each event (its ending).
const STREAM_POLL_MS = 5_000;
const STREAM_AFTER_EVENT_MS = 100;
const STREAM_AFTER_EVENTS_POLL_MS = 1_000;
const STREAM_HEARTBEAT_MS = 15_000;

/**
 * Resolves after ms, when `wake` is called (then STREAM_AFTER_EVENT_MS later, so a burst of
 * events makes one read), or at once when the signal aborts.
 */
async function waitForChange(ms: number, signal: AbortSignal, onWake: (wake: () => void) => () => void): Promise<void> {
  const woken = new AbortController();
  const unsubscribe = onWake(() => woken.abort());
  try {
    await sleep(ms, AbortSignal.any([signal, woken.signal]));
    if (woken.signal.aborted) await sleep(STREAM_AFTER_EVENT_MS, signal);
  } finally {
    unsubscribe();
  }
}

type JobList = Awaited<ReturnType<NonNullable<ControlPlane>['jobs']['list']>>;

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

/** The jobs table; the page follows /jobs/stream and swaps in each new version (console.js). */
function jobListView(list: JobList): Html {
  return html`<div id="job-list" data-testid="job-list" data-stream="/jobs/stream">
<p class="asof">${list.total} jobs</p>
${list.items.length === 0 ? html`<p class="muted">No jobs yet. Batch actions from the miners table and rollouts appear here.</p>` : html`<div class="scroll" tabindex="0" role="region" aria-label="Jobs"><table data-testid="jobs"><thead><tr><th scope="col">Job</th><th scope="col">Status</th><th scope="col">Progress</th><th scope="col">By</th><th scope="col">Created</th></tr></thead>
<tbody>${list.items.map(j => html`<tr data-job="${j.id}" data-status="${j.status}"><th scope="row"><a href="/jobs/${encodeURIComponent(j.id)}">${j.label}</a></th><td>${j.status.replace('_', ' ')}</td><td>${j.progress ? `${j.progress.done}/${j.progress.total}` : '—'}</td><td>${j.created_by}</td><td>${age(iso(j.created_ms))}</td></tr>`)}</tbody></table></div>`}
</div>`;
}

interface FragmentStream<T> {
  first: T;
  read: () => Promise<T>;
  render: (value: T) => string;
  /** the final status once nothing will change any more (the stream then ends), else null */
  ended: (value: T) => string | null;
  /** call wake on a change; returns the unsubscribe function */
  subscribe: (wake: () => void) => () => void;
}

/** Server-sent events: `progress` with the fragment each time it changes; `end` when it is final. */
async function streamFragments<T>(req: FastifyRequest, reply: FastifyReply, streams: EventStreams, o: FragmentStream<T>): Promise<void> {
  const stream = streams.start(reply);
  const { signal } = stream;
  let value = o.first;
  let sent = '';
  let lastWriteMs = Date.now();
  let lastEventMs = 0;
  try {
    for (;;) {
      const fragment = o.render(value);
      if (fragment !== sent) {
        stream.send('progress', fragment);
        sent = fragment;
        lastWriteMs = Date.now();
      } else if (Date.now() - lastWriteMs >= STREAM_HEARTBEAT_MS) {
        stream.heartbeat();
        lastWriteMs = Date.now();
      }
      const status = o.ended(value);
      if (status !== null) {
        stream.send('end', JSON.stringify({ status }));
        break;
      }
      // Shortly after events a job usually ends or moves on without one: look again in a second.
      const pollMs = Date.now() - lastEventMs < STREAM_POLL_MS ? STREAM_AFTER_EVENTS_POLL_MS : STREAM_POLL_MS;
      await waitForChange(pollMs, signal, wake =>
        o.subscribe(() => {
          lastEventMs = Date.now();
          wake();
        }),
      );
      if (signal.aborted) break;
      value = await o.read();
    }
  } catch (err) {
    if (!signal.aborted) {
      req.log.warn({ err, url: req.url }, 'console: live stream failed');
      stream.send('error', JSON.stringify({ message: 'live updates are unavailable; reload the page' }));
    }
  } finally {
    stream.end();
  }
}

export function registerJobPages(app: FastifyInstance, plane: ControlPlane | undefined): void {
  const streams = new EventStreams();
  app.addHook('onClose', async () => streams.closeAll());
  const jobs = (): NonNullable<ControlPlane>['jobs'] => {
    if (!plane) throw new FleetError('unavailable', 'this API runs without the jobs service');
    return plane.jobs;
  };

  app.get('/jobs', async (req, reply) => {
    const session = req.consoleSession!;
    const list = await jobs().list(session.caller, { limit: 100 });
    const body = html`<p class="asof">Newest first${canControl(session.caller) && plane ? html` · <a href="/rollouts/new" data-testid="new-rollout">Start a firmware rollout</a>` : ''}</p>
${jobListView(list)}`;
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

  // Server-sent events: the progress fragment each time it changes, then `end` once the job is final.
  app.get('/jobs/:id/stream', async (req, reply) => {
    const session = req.consoleSession!;
    const { id } = req.params as { id: string };
    const read = (): Promise<JobDetail> => jobs().get(session.caller, id, { resultsLimit: 500 });
    // Tenant and existence are checked before the stream starts (a 404 page otherwise).
    const first = await read();
    await streamFragments(req, reply, streams, {
      first,
      read,
      render: j => progressView(j, session).text,
      ended: j => (isFinal(j) ? j.status : null),
      subscribe: wake => jobs().subscribe(session.caller, e => e.id === id && wake()),
    });
  });

  // The jobs list, live: the list fragment whenever one of the tenant's jobs reports a change.
  app.get('/jobs/stream', async (req, reply) => {
    const session = req.consoleSession!;
    const read = (): Promise<JobList> => jobs().list(session.caller, { limit: 100 });
    const first = await read();
    await streamFragments(req, reply, streams, {
      first,
      read,
      render: l => jobListView(l).text,
      ended: () => null,
      subscribe: wake => jobs().subscribe(session.caller, () => wake()),
    });
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
