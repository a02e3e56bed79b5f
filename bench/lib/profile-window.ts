// Preload for a steady-state look at a long-running process (`--cpu-prof` and `--trace-gc` cover
// its whole life, i.e. mostly the first cycle's logins and series creation at 10,000 miners):
//   node --import ./bench/lib/profile-window.ts …
// PROFILE_AFTER_MS, PROFILE_FOR_MS: the window, from process start.
// CPU_PROFILE_OUT: V8's sampling profile of this thread over the window (.cpuprofile, DevTools format).
// HEAP_PROFILE_OUT: V8's sampling heap profile over the window (.heapprofile: where the bytes were allocated).
// GC_STATS=1: pauses of the main thread per kind of collection over the window, printed to stderr.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

function ms(name: string): number {
  const v = Number(process.env[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}=${process.env[name] ?? ''}: expected milliseconds ≥ 0`);
  return v;
}

const cpuOut = process.env.CPU_PROFILE_OUT;
const heapOut = process.env.HEAP_PROFILE_OUT;
const gcStats = process.env.GC_STATS === '1';
if (cpuOut || heapOut || gcStats) {
  const afterMs = ms('PROFILE_AFTER_MS');
  const forMs = ms('PROFILE_FOR_MS');
  setTimeout(() => void openWindow(forMs), afterMs).unref();
}

async function openWindow(forMs: number): Promise<void> {
  const stops: (() => Promise<void>)[] = [];
  if (cpuOut) {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 1000 });
    await session.post('Profiler.start');
    stops.push(async () => {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(cpuOut, JSON.stringify(profile));
      session.disconnect();
      process.stderr.write(`profile-window: wrote ${cpuOut}\n`);
    });
  }
  if (heapOut) {
    const session = new Session();
    session.connect();
    await session.post('HeapProfiler.enable');
    // every 32 kB allocated on average: objects that die young are counted too
    await session.post('HeapProfiler.startSampling', { samplingInterval: 32_768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
    stops.push(async () => {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      writeFileSync(heapOut, JSON.stringify(profile));
      session.disconnect();
      process.stderr.write(`profile-window: wrote ${heapOut}\n`);
    });
  }
  if (gcStats) {
    const kinds = new Map<number, { n: number; ms: number; max: number }>();
    const names: Record<number, string> = {
      [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
      [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
      [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental marking',
      [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
    };
    const obs = new PerformanceObserver(list => {
      for (const e of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
        const k = e.detail?.kind ?? -1;
        const s = kinds.get(k) ?? { n: 0, ms: 0, max: 0 };
        s.n++;
        s.ms += e.duration;
        s.max = Math.max(s.max, e.duration);
        kinds.set(k, s);
      }
    });
    obs.observe({ entryTypes: ['gc'] });
    const t0 = performance.now();
    stops.push(async () => {
      obs.disconnect();
      const wallMs = performance.now() - t0;
      for (const [k, s] of kinds)
        process.stderr.write(`profile-window: gc ${names[k] ?? k}: ${s.n} pauses, ${s.ms.toFixed(0)} ms (${((100 * s.ms) / wallMs).toFixed(1)} % of wall), longest ${s.max.toFixed(1)} ms\n`);
      const heap = process.memoryUsage();
      process.stderr.write(`profile-window: heap used ${(heap.heapUsed / 2 ** 20).toFixed(0)} MB of ${(heap.heapTotal / 2 ** 20).toFixed(0)} MB, rss ${(heap.rss / 2 ** 20).toFixed(0)} MB\n`);
    });
  }
  process.stderr.write(`profile-window: ${forMs} ms from now\n`);
  setTimeout(() => void Promise.all(stops.map(s => s())), forMs).unref();
}
