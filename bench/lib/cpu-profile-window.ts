// Preload for a steady-state CPU profile of a long-running process (`--cpu-prof` covers the whole
// life, i.e. mostly the first cycle's logins and series creation at 10,000 miners):
//   node --import ./bench/lib/cpu-profile-window.ts …   with CPU_PROFILE_AFTER_MS, CPU_PROFILE_FOR_MS, CPU_PROFILE_OUT
// Starts V8's sampling profiler in this thread after CPU_PROFILE_AFTER_MS and writes a .cpuprofile
// (Chrome DevTools format) to CPU_PROFILE_OUT after CPU_PROFILE_FOR_MS more.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';

function ms(name: string): number {
  const v = Number(process.env[name]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}=${process.env[name]}: expected milliseconds ≥ 0`);
  return v;
}

const out = process.env.CPU_PROFILE_OUT;
if (out) {
  const afterMs = ms('CPU_PROFILE_AFTER_MS');
  const forMs = ms('CPU_PROFILE_FOR_MS');
  setTimeout(() => {
    void (async () => {
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: 1000 });
      await session.post('Profiler.start');
      process.stderr.write(`cpu-profile-window: profiling for ${forMs} ms\n`);
      setTimeout(() => {
        void (async () => {
          const { profile } = await session.post('Profiler.stop');
          writeFileSync(out, JSON.stringify(profile));
          process.stderr.write(`cpu-profile-window: wrote ${out}\n`);
          session.disconnect();
        })();
      }, forMs).unref();
    })();
  }, afterMs).unref();
}
