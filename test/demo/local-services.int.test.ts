import { describe, expect, inject, it } from 'vitest';

// Proves the globalSetup handed us live services (not a stub): InfluxDB answers /ping and
// a CREATE DATABASE, Redis answers PING.
describe('test services', () => {
  it('InfluxDB is reachable and accepts writes', async () => {
    const url = inject('influxUrl');
    const ping = await fetch(`${url}/ping`);
    expect(ping.status).toBe(204);
    const db = `t_${Date.now()}`;
    const create = await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `CREATE DATABASE ${db}` }) });
    expect(create.status).toBe(200);
    const write = await fetch(`${url}/write?db=${db}&precision=ms`, { method: 'POST', body: `m,t=a v=1.5 ${Date.now()}` });
    expect(write.status).toBe(204);
    const q = await fetch(`${url}/query?db=${db}&q=${encodeURIComponent('SELECT v FROM m')}`);
    const body = (await q.json()) as { results: { series?: { values: unknown[][] }[] }[] };
    expect(body.results[0]?.series?.[0]?.values[0]?.[1]).toBe(1.5);
    await fetch(`${url}/query`, { method: 'POST', body: new URLSearchParams({ q: `DROP DATABASE ${db}` }) });
  });

  it('Redis is reachable', async () => {
    const { Redis } = await import('ioredis');
    const r = new Redis(inject('redisUrl'));
    expect(await r.ping()).toBe('PONG');
    r.disconnect();
  });
});
