// One autocannon run in its own process (started by bench/api/load.ts), so the load generator
// has a core's worth of event loop to itself and its CPU can be measured apart from the
// benchmark driver. Options arrive as JSON in argv[2]; the result leaves as one JSON line.
//
// With a rate set, autocannon "corrects" its histogram for coordinated omission with an expected
// interval of ceil(1 / per-connection rate) = 1 ms (a seconds-for-ms slip; at 20 req/s per
// connection the interval is 50 ms). So each response of d ms is also recorded as d − 1 made-up
// samples, and its percentiles weigh responses by their duration. The per-request latencies are
// therefore collected here too, one per response.
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2] ?? '{}') as autocannon.Options;
const latenciesMs: number[] = [];
const r = await new Promise<autocannon.Result>((resolve, reject) => {
  const run = autocannon(opts, (err: unknown, result: autocannon.Result) =>
    err ? reject(err as Error) : resolve(result),
  );
  run.on('response', (_client, _status, _bytes, responseTimeMs: number) => latenciesMs.push(responseTimeMs));
});
latenciesMs.sort((a, b) => a - b);
const at = (q: number): number | null =>
  latenciesMs.length === 0
    ? null
    : latenciesMs[Math.min(latenciesMs.length - 1, Math.ceil(q * latenciesMs.length) - 1)]!;
const perRequest = { count: latenciesMs.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) };
process.stdout.write(`${JSON.stringify({ ...r, perRequest })}\n`);
