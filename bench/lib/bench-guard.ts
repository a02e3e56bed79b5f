import { loadavg } from 'node:os';

/**
 * What every benchmark owes its reader: the machine's load at the start and the end of the run
 * (a figure from a busy machine is not a figure from a quiet one), and no figure at all when the
 * benchmark's own inputs failed (refused logins, empty answers, a simulator that did not start).
 */
export class BenchGuard {
  private readonly failures: string[] = [];
  private readonly name: string;

  constructor(name: string) {
    this.name = name;
    console.log(`# ${name}: load average at start ${formatLoad()} (${new Date().toISOString()})`);
  }

  /** Record that an input of the run failed; the figures of the run are then refused. */
  fail(reason: string): void {
    this.failures.push(reason);
  }

  /** fail(reason) unless ok; returns ok so callers can skip what depends on it. */
  check(ok: boolean, reason: string): boolean {
    if (!ok) this.fail(reason);
    return ok;
  }

  get ok(): boolean {
    return this.failures.length === 0;
  }

  /**
   * Print the end load and, when an input failed, say so instead of the figures and set a
   * failing exit code. Returns true when the figures may be reported.
   */
  finish(): boolean {
    console.log(`# ${this.name}: load average at end ${formatLoad()} (${new Date().toISOString()})`);
    if (this.ok) return true;
    console.log(`# ${this.name}: REFUSED — no figures reported, because ${this.failures.length} input(s) failed:`);
    for (const f of this.failures.slice(0, 20)) console.log(`#   - ${f}`);
    if (this.failures.length > 20) console.log(`#   … and ${this.failures.length - 20} more`);
    process.exitCode = 1;
    return false;
  }
}

export function formatLoad(): string {
  return loadavg()
    .map(l => l.toFixed(2))
    .join(' ');
}
