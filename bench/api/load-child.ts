// One autocannon run in its own process (started by bench/api/load.ts), so the load generator
// has a core's worth of event loop to itself and its CPU can be measured apart from the
// benchmark driver. Options arrive as JSON in argv[2]; the result leaves as one JSON line.
import autocannon from 'autocannon';

const opts = JSON.parse(process.argv[2] ?? '{}') as autocannon.Options;
const r = await autocannon(opts);
process.stdout.write(`${JSON.stringify(r)}\n`);
