// One collector process of test/collector/leases.int.test.ts: startCollector with the
// configuration in its environment, printing one JSON line per poll (miner, start and end
// time) on stdout so the test sees which process polled what, and when.
import { startCollector } from '../../collector/collector-service.ts';
import { loadCollectorConfig } from '../../collector/config.ts';
import type { MinerTracker } from '../../collector/poller.ts';
import type { PollScheduler } from '../../collector/scheduler.ts';
import { createLogger } from '../../runtime/logger.ts';

const out = (o: object): void => void process.stdout.write(JSON.stringify(o) + '\n');
const config = loadCollectorConfig(process.env);
const collector = await startCollector(config, { log: createLogger({ level: 'warn', fd: 2 }), http: false });
// One poll thread (the default): the poller is the scheduler itself, whose polls this wraps.
const scheduler = collector.scheduler as PollScheduler;
const pollOnce = scheduler.pollOnce.bind(scheduler);
scheduler.pollOnce = async (t: MinerTracker) => {
  const startMs = Date.now();
  const outcome = await pollOnce(t);
  out({ poll: t.ref.id, startMs, endMs: Date.now(), ok: outcome.ok });
  return outcome;
};
let owned = -1;
setInterval(() => {
  if (scheduler.trackers.size !== owned) out({ owned: (owned = scheduler.trackers.size), t: Date.now() });
}, 20).unref();
out({ event: 'ready', member: config.COLLECTOR_ID });
process.once('SIGTERM', () => {
  void collector.stop().then(() => process.exit(0));
});
