import { readdirSync, readFileSync } from 'node:fs';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** CPU seconds (user+system) and RSS of a process, from /proc. */
export function procStats(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuS: ticks / 100, rssMb: rssKb / 1024 };
}

/** Seconds a process's threads spent runnable but waiting for a core (/proc/<pid>/schedstat, all threads). */
export function runDelayS(pid: number): number {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]);
    } catch {
      // thread gone
    }
  }
  return ns / 1e9;
}

/** CPU seconds the whole machine spent busy (all cores, everything but idle and iowait), from /proc/stat. */
export function machineBusyS(): number {
  const [, ...ticks] = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  return (total - ticks[3]! - ticks[4]!) / 100;
}

/** Samples a process's CPU (% of one core) and peak RSS over a window. */
export class ProcSampler {
  private readonly pid: number;
  private start = { cpuS: 0, t: 0, waitS: 0 };
  peakRssMb = 0;
  private timer: NodeJS.Timeout | null = null;
  constructor(pid: number) {
    this.pid = pid;
  }
  begin(): void {
    this.start = { cpuS: procStats(this.pid).cpuS, t: Date.now(), waitS: runDelayS(this.pid) };
    this.peakRssMb = 0;
    this.timer = setInterval(() => {
      try {
        this.peakRssMb = Math.max(this.peakRssMb, procStats(this.pid).rssMb);
      } catch {
        // process gone
      }
    }, 500);
  }
  /** cpuPct: % of one core; waitPct: time its threads waited for a core, % of the wall time (CPU starvation) */
  end(): { cpuPct: number; waitPct: number; peakRssMb: number; rssMb: number } {
    if (this.timer) clearInterval(this.timer);
    const now = procStats(this.pid);
    const wall = (Date.now() - this.start.t) / 1000;
    const waitPct = ((runDelayS(this.pid) - this.start.waitS) / wall) * 100;
    return { cpuPct: ((now.cpuS - this.start.cpuS) / wall) * 100, waitPct, peakRssMb: Math.max(this.peakRssMb, now.rssMb), rssMb: now.rssMb };
  }
}

/** Spawn `node bin/bos-fleet.ts ...` (Node 24 from node_modules) and wait for a JSON line with event=ready. */
export async function spawnReady(args: string[], env: NodeJS.ProcessEnv = process.env, readyTimeoutMs = 120_000): Promise<{ child: ChildProcess; ready: Record<string, unknown> }> {
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const rl = createInterface({ input: child.stdout! });
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`${args.join(' ')}: not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs);
    rl.on('line', line => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.event === 'ready') {
          clearTimeout(t);
          resolve(msg);
        }
      } catch {
        // not JSON
      }
    });
    child.once('exit', code => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, ready };
}

export async function stopChild(child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>(r => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(t);
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
