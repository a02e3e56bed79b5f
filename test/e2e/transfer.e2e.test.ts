import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, inject, it } from 'vitest';
import { InfluxClient } from '../../store/influx-redis/influx-client.ts';
import { openEmbeddedStore } from '../../store/embedded/index.ts';
import type { EmbeddedSeries } from '../../store/embedded/series.ts';

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

  // The home miner who grows: history of the embedded store (series tables and the events table)
  // exported and imported into InfluxDB, and back into a fresh data folder.
  it('moves the embedded store\'s series and events to InfluxDB and to another data folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'transfer-emb-'));
    const now = Date.now();
    const store = openEmbeddedStore({ dataDir: join(dir, 'home'), checkpointIntervalMs: 0 });
    const series = store.series as EmbeddedSeries;
    series.writeBatch([
      { measurement: 'miner', tags: { tenant: 'home', site: 'shed', miner: 'm1', model: 'S19' }, fields: { hashrate_ghs: 95_000.5, boards_hashing: 3 }, time_ms: now - 7_200_000 },
      { measurement: 'miner', tags: { tenant: 'home', site: 'shed', miner: 'm2', model: 'S19' }, fields: { hashrate_ghs: 90_000.25, boards_hashing: 2 }, time_ms: now - 60_000 },
      { measurement: 'miner_1h', tags: { tenant: 'home', site: 'shed', miner: 'm1', model: 'S19' }, fields: { hashrate_ghs: 94_000, samples: 360, up: 1 }, time_ms: now - 3 * 86_400_000 },
    ]);
    await store.events.record([{ time_ms: now - 120_000, tenant: 'home', site: 'shed', miner: 'm2', kind: 'hashboard_lost', severity: 'critical', message: 'miner m2 hashboard 3 stopped hashing', data: { board: '3' } }]);
    await store.close();
    const db = `emb_${randomUUID().slice(0, 8)}`;
    const run = (args: string[], env: Record<string, string>) =>
      spawnSync(process.execPath, [resolve('bin/bos-fleet.ts'), ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: dir, ...env }, timeout: 60_000 });
    const exported = run(['export', '--store', 'embedded', '--data-dir', join(dir, 'home'), '--since', '30d', '--out', join(dir, 'home.lp')], {});
    expect(exported.status, exported.stderr).toBe(0);
    expect(exported.stderr).toContain('exported 4 points');
    const toInflux = run(['import', join(dir, 'home.lp')], { INFLUX_URL: inject('influxUrl'), REDIS_URL: inject('redisUrl'), INFLUX_DB: db });
    expect(toInflux.status, toInflux.stderr).toBe(0);
    const influx = new InfluxClient({ url: inject('influxUrl'), db, auth: 'none', flavour: '1' });
    const miner = (await influx.query('SELECT hashrate_ghs, boards_hashing, miner FROM miner ORDER BY time'))[0]!;
    expect(miner.values.map(r => [r[miner.columns.indexOf('miner')], r[miner.columns.indexOf('hashrate_ghs')]])).toEqual([['m1', 95_000.5], ['m2', 90_000.25]]);
    expect((await influx.query('SHOW FIELD KEYS FROM miner'))[0]!.values).toContainEqual(['boards_hashing', 'integer']);
    const ev = (await influx.query('SELECT message, kind, data FROM event'))[0]!;
    expect(ev.values[0]![ev.columns.indexOf('kind')]).toBe('hashboard_lost');
    expect(JSON.parse(String(ev.values[0]![ev.columns.indexOf('data')]))).toEqual({ board: '3' });
    // and back into a fresh data folder: the same history, events in the events table
    const back = run(['import', '--store', 'embedded', '--data-dir', join(dir, 'copy'), join(dir, 'home.lp')], {});
    expect(back.status, back.stderr).toBe(0);
    const copy = openEmbeddedStore({ dataDir: join(dir, 'copy'), checkpointIntervalMs: 0 });
    try {
      expect((await copy.events.recent('home', { limit: 10 })).map(e => e.message)).toEqual(['miner m2 hashboard 3 stopped hashing']);
      const rows = await copy.series.reader.query({ measurement: 'miner', tenant: 'home', fromMs: now - 86_400_000, toMs: now, fields: [{ fn: 'count', field: 'hashrate_ghs', as: 'n' }] });
      expect(rows.flatMap(g => g.rows).map(r => r.n)).toEqual([2]);
    } finally {
      await copy.close();
    }
  }, 90_000);
});
