// Many miners on distinct loopback addresses, each answering with its own identity; port mode;
// the inventory file; the CLI.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

import { inventoryFileSchema, inventoryMinerSchema } from '../../collector/inventory/schema.ts';
import type { GetMinerDetailsResponse, GetNetworkInfoResponse } from '../../proto/types.ts';
import { startSimulator, type SimulatedFleet } from '../../simulator/index.ts';
import { connect, freePortRun } from './helpers.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T);
      }
    }),
  );
  return out;
}

describe('a 250-miner fleet on distinct loopback addresses', () => {
  let fleet: SimulatedFleet;
  let dir: string;

  beforeAll(async () => {
    fleet = await startSimulator({
      miners: 250,
      seed: 'scale',
      baseAddress: '127.8.0.250',
      sites: 3,
      tenants: 2,
    });
    dir = await mkdtemp(path.join(tmpdir(), 'bosfleet-sim-'));
  });
  afterAll(async () => {
    await fleet.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('allocates distinct addresses (skipping .0/.255) and identities', () => {
    const addresses = new Set(fleet.miners.map(m => m.host));
    expect(addresses.size).toBe(250);
    expect(fleet.miners[0]!.host).toBe('127.8.0.250');
    expect(fleet.miners[5]!.host).toBe('127.8.1.1');
    for (const m of fleet.miners) expect(m.host).not.toMatch(/\.(0|255)$/);
    expect(new Set(fleet.miners.map(m => m.uid)).size).toBe(250);
    expect(new Set(fleet.miners.map(m => m.macAddress)).size).toBe(250);
    expect(new Set(fleet.miners.map(m => m.serialNumber)).size).toBe(250);
    expect(Object.keys(fleet.summary().sites)).toEqual(['site-1', 'site-2', 'site-3']);
    expect(Object.keys(fleet.summary().tenants).sort()).toEqual(['tenant-1', 'tenant-2']);
  });

  it('every miner answers with its own identity', async () => {
    const results = await mapLimit(fleet.miners, 50, async m => {
      const c = connect(m.address);
      try {
        await c.login();
        const { res } = await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails');
        const net = await c.call<GetNetworkInfoResponse>('NetworkService', 'GetNetworkInfo');
        return {
          id: m.id,
          ok:
            res.uid === m.uid &&
            res.mac_address === m.macAddress &&
            res.miner_identity?.miner_model === m.modelName &&
            net.res.networks[0]?.address === m.host,
        };
      } finally {
        c.close();
      }
    });
    expect(results.filter(r => !r.ok)).toEqual([]);
  });

  it('is deterministic from the seed', async () => {
    const again = await startSimulator({
      miners: 250,
      seed: 'scale',
      baseAddress: '127.8.2.1',
      sites: 3,
      tenants: 2,
    });
    try {
      const strip = (m: (typeof fleet.miners)[number]): object => ({ ...m, host: '', address: '' });
      expect(again.miners.map(strip)).toEqual(fleet.miners.map(strip));
    } finally {
      await again.stop();
    }
  });

  it('writes an inventory in the collector format (JSON and YAML)', async () => {
    const json = path.join(dir, 'inventory.json');
    const yaml = path.join(dir, 'inventory.yaml');
    await fleet.writeInventory(json);
    await fleet.writeInventory(yaml);
    for (const raw of [
      JSON.parse(await readFile(json, 'utf8')) as unknown,
      parseYaml(await readFile(yaml, 'utf8')) as unknown,
    ]) {
      const inv = inventoryFileSchema.parse(raw);
      expect(inv.credentials.default).toEqual({ username: 'root', password_env: 'MINER_PASSWORD' });
      expect(inv.miners).toHaveLength(250);
      const entries = inv.miners.map(m => inventoryMinerSchema.parse(m));
      expect(entries[0]).toMatchObject({
        id: 'sim-0001',
        address: '127.8.0.250',
        port: 50051,
        site: 'site-1',
      });
      expect(entries[0]!.labels).toMatchObject({ rack: 'r01' });
      expect(entries[0]!.labels.model).toMatch(/^Antminer /);
      expect(new Set(entries.map(e => e.site))).toEqual(new Set(['site-1', 'site-2', 'site-3']));
    }
  });
});

describe('port mode', () => {
  it('serves each miner on its own port of 127.0.0.1', async () => {
    const base = await freePortRun(4);
    const fleet = await startSimulator({
      miners: 4,
      seed: 'ports',
      portMode: true,
      port: base,
      passwords: { 'sim-0002': 'pw2' },
    });
    try {
      expect(fleet.miners.map(m => m.address)).toEqual([0, 1, 2, 3].map(i => `127.0.0.1:${base + i}`));
      for (const m of fleet.miners) {
        const c = connect(m.address);
        try {
          await c.login(m.id === 'sim-0002' ? 'pw2' : 'root');
          const { res } = await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails');
          expect(res.uid).toBe(m.uid);
        } finally {
          c.close();
        }
      }
      // "localhost:<port>" is routed by port
      const c = connect(`localhost:${base + 2}`);
      try {
        await c.login();
        expect((await c.call<GetMinerDetailsResponse>('MinerService', 'GetMinerDetails')).res.uid).toBe(
          fleet.miners[2]!.uid,
        );
      } finally {
        c.close();
      }
      const inv = fleet.inventory();
      expect(inv.miners[1]).toMatchObject({ port: base + 1, credentials: 'miner-sim-0002' });
      expect(inv.credentials['miner-sim-0002']).toEqual({
        username: 'root',
        password_env: 'MINER_PASSWORD_SIM_0002',
      });
    } finally {
      await fleet.stop();
    }
  });
});

describe('bos-fleet simulator CLI', () => {
  it('documents every option in --help', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const p = spawn(process.execPath, [path.join(ROOT, 'bin/bos-fleet.ts'), 'simulator', '--help'], {
        cwd: ROOT,
      });
      let text = '';
      p.stdout.on('data', (d: Buffer) => (text += d.toString()));
      p.on('error', reject);
      p.on('close', () => resolve(text));
    });
    for (const opt of [
      '--miners',
      '--seed',
      '--faults',
      '--base-address',
      '--port',
      '--port-mode',
      '--models',
      '--sites',
      '--tenants',
      '--password',
      '--reboot-ms',
      '--token-timeout-s',
      '--inventory-out',
      '--admin-port',
      '--json',
    ]) {
      expect(out).toContain(opt);
    }
    expect(out).toContain('KIND[=PARAM]');
  });

  it('prints a JSON ready line, serves, writes the inventory and stops cleanly on SIGTERM', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bosfleet-cli-'));
    const inv = path.join(dir, 'inv.json');
    const p = spawn(
      process.execPath,
      [
        path.join(ROOT, 'bin/bos-fleet.ts'),
        'simulator',
        '--miners',
        '3',
        '--json',
        '--base-address',
        '127.8.5.1',
        '--inventory-out',
        inv,
        '--admin-port',
        '0',
        '--faults',
        'overheat@sim-0002',
        '--seed',
        '5',
      ],
      { cwd: ROOT, env: { ...process.env, LOG_LEVEL: 'warn' } },
    );
    try {
      const lines = createInterface({ input: p.stdout });
      const it = lines[Symbol.asyncIterator]();
      const first = await it.next();
      const ready = JSON.parse(first.value as string) as Record<string, unknown>;
      expect(ready).toMatchObject({
        event: 'ready',
        miners: 3,
        first_address: '127.8.5.1:50051',
        last_address: '127.8.5.3:50051',
        inventory: inv,
      });
      expect(ready.faults).toEqual([{ id: 'sim-0002', faults: ['overheat'] }]);
      expect(String(ready.admin_url)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const c = connect('127.8.5.2:50051');
      try {
        const { res } = await c.call<{ major: number }>(
          'ApiVersionService',
          'GetApiVersion',
          {},
          new grpc.Metadata(),
        );
        expect(res.major).toBe(1);
      } finally {
        c.close();
      }
      expect(inventoryFileSchema.parse(JSON.parse(await readFile(inv, 'utf8'))).miners).toHaveLength(3);
      p.kill('SIGTERM');
      const second = await it.next();
      expect(JSON.parse(second.value as string)).toEqual({ event: 'stopped', signal: 'SIGTERM' });
      const code = await new Promise<number | null>(resolve =>
        p.exitCode !== null ? resolve(p.exitCode) : p.on('exit', c2 => resolve(c2)),
      );
      expect(code).toBe(0);
    } finally {
      p.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects bad options with a usage error', async () => {
    const result = await new Promise<{ code: number | null; err: string }>((resolve, reject) => {
      const p = spawn(
        process.execPath,
        [path.join(ROOT, 'bin/bos-fleet.ts'), 'simulator', '--faults', 'melting:3'],
        { cwd: ROOT },
      );
      let err = '';
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('error', reject);
      p.on('close', code => resolve({ code, err }));
    });
    expect(result.code).toBe(2);
    expect(result.err).toMatch(/unknown fault 'melting'/);
  });
});
