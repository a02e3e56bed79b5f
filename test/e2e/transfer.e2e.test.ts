import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { InfluxClient } from '../../store/influx-redis/influx-client.ts';

// export → file → import into another InfluxDB database: the points arrive with their tags,
// field types and times (the path a home miner takes to move history to InfluxDB).
describe('bos-fleet export and import', () => {
  it('moves series through a line-protocol file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-'));
    const [from, to] = [`exp_${randomUUID().slice(0, 8)}`, `imp_${randomUUID().slice(0, 8)}`];
    const now = Date.now();
    const lines = [`miner,miner=sim-1,site=dc1 hashrate_ghs=100.5,boards=3i ${(now - 3_600_000) * 1e6}`, `miner,miner=sim-2,site=dc1 hashrate_ghs=90.25,boards=2i,note="a \\"b\\"" ${(now - 60_000) * 1e6}`, `miner,miner=sim-1,site=dc1 hashrate_ghs=1 ${(now - 40 * 86_400_000) * 1e6}`];
    writeFileSync(join(dir, 'seed.lp'), lines.join('\n') + '\n');
    const run = (args: string[], db: string) =>
      spawnSync(process.execPath, [resolve('bin/bos-fleet.ts'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, INFLUX_URL: inject('influxUrl'), REDIS_URL: inject('redisUrl'), INFLUX_DB: db }, timeout: 60_000 });
    const seeded = run(['import', join(dir, 'seed.lp')], from);
    expect(seeded.status, seeded.stderr).toBe(0);
    expect(seeded.stderr).toContain('imported 3 points');
    const exported = run(['export', '--since', '30d', '--out', join(dir, 'out.lp')], from);
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('store: influx-redis');
    const text = readFileSync(join(dir, 'out.lp'), 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2); // the 40-day-old point is outside --since
    const imported = run(['import', join(dir, 'out.lp')], to);
    expect(imported.status, imported.stderr).toBe(0);
    return (async () => {
      const influx = new InfluxClient({ url: inject('influxUrl'), db: to, auth: 'none', flavour: '1' });
      const rows = (await influx.query('SELECT * FROM miner ORDER BY time'))[0]!;
      expect(rows.values.map(r => r[rows.columns.indexOf('miner')])).toEqual(['sim-1', 'sim-2']);
      expect(rows.values[1]![rows.columns.indexOf('note')]).toBe('a "b"');
      const types = (await influx.query('SHOW FIELD KEYS FROM miner'))[0]!.values;
      expect(types).toContainEqual(['boards', 'integer']);
    })();
  }, 90_000);

  it('a file that is not line protocol fails with the line and what is expected', () => {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-'));
    writeFileSync(join(dir, 'bad.lp'), 'm v=1 1\nthis is not it\n');
    const r = spawnSync(process.execPath, [resolve('bin/bos-fleet.ts'), 'import', join(dir, 'bad.lp')], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, INFLUX_URL: inject('influxUrl'), INFLUX_DB: `bad_${randomUUID().slice(0, 8)}` }, timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/bad\.lp:2: .*expected measurement\[,tag=value…\] field=value/);
  }, 60_000);
});
