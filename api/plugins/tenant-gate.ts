/**
 * A fair share of the server per tenant: at most `maxActive` requests of one tenant run at
 * once, up to `maxQueued` more wait in arrival order, and beyond that the request is refused
 * at once (the caller answers 429). Rate limits bound how many requests a caller sends per
 * window; this bounds how much of the process one tenant holds at any moment, so a burst from
 * one tenant queues behind itself instead of in front of everyone else.
 *
 * In-process state: each API process shares itself out; the Redis rate limits stay the
 * cluster-wide budget.
 */
export type Release = () => void;

interface TenantState {
  active: number;
  queue: { grant: (release: Release) => void }[];
}

export class TenantGate {
  private readonly tenants = new Map<string, TenantState>();
  readonly maxActive: number;
  readonly maxQueued: number;

  constructor(maxActive: number, maxQueued: number) {
    if (!(maxActive >= 1) || !(maxQueued >= 0)) throw new Error('TenantGate: maxActive >= 1 and maxQueued >= 0');
    this.maxActive = maxActive;
    this.maxQueued = maxQueued;
  }

  /**
   * A slot for `tenant`: resolves with its release (call it exactly once; more calls are
   * ignored) or with null when the tenant's queue is full. A waiter whose `signal` aborts
   * leaves the queue and resolves null.
   */
  acquire(tenant: string, signal?: AbortSignal): Promise<Release | null> {
    let s = this.tenants.get(tenant);
    if (!s) {
      s = { active: 0, queue: [] };
      this.tenants.set(tenant, s);
    }
    if (s.active < this.maxActive) {
      s.active++;
      return Promise.resolve(this.releaser(tenant, s));
    }
    if (s.queue.length >= this.maxQueued || signal?.aborted) return Promise.resolve(null);
    const state = s;
    return new Promise(resolve => {
      const waiter = {
        grant: (release: Release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
      };
      const onAbort = (): void => {
        const i = state.queue.indexOf(waiter);
        if (i >= 0) state.queue.splice(i, 1);
        this.forgetIfIdle(tenant, state);
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      state.queue.push(waiter);
    });
  }

  /** Requests of `tenant` running and waiting (for metrics and tests). */
  load(tenant: string): { active: number; queued: number } {
    const s = this.tenants.get(tenant);
    return { active: s?.active ?? 0, queued: s?.queue.length ?? 0 };
  }

  private releaser(tenant: string, s: TenantState): Release {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = s.queue.shift();
      // The slot passes straight to the next waiter of the same tenant: active stays the same.
      if (next) next.grant(this.releaser(tenant, s));
      else {
        s.active--;
        this.forgetIfIdle(tenant, s);
      }
    };
  }

  private forgetIfIdle(tenant: string, s: TenantState): void {
    if (s.active === 0 && s.queue.length === 0 && this.tenants.get(tenant) === s) this.tenants.delete(tenant);
  }
}
