import { spawnSync } from 'node:child_process';
import type { TestProject } from 'vitest/node';
import { startLocalInflux, startLocalRedis, type LocalService } from '../../demo/local-services.ts';

/**
 * Gives integration tests a real InfluxDB and a real Redis:
 *  1. INFLUX_URL / REDIS_URL when set;
 *  2. else containers (testcontainers) when a container runtime answers;
 *  3. else Debian's influxd / redis-server spawned on free loopback ports with temp dirs.
 * No test silently skips: if none of these works, setup fails with what to install.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    influxUrl: string;
    redisUrl: string;
  }
}

type Stop = () => Promise<void>;

function containerRuntimeAvailable(): boolean {
  if (process.env.BOSFLEET_TEST_NO_CONTAINERS === '1') return false;
  const r = spawnSync('docker', ['info', '--format', '{{.ServerVersion}}'], { stdio: 'ignore', timeout: 5_000 });
  return r.status === 0;
}

async function fromContainer(kind: 'influxdb' | 'redis'): Promise<{ url: string; stop: Stop }> {
  const { GenericContainer, Wait } = await import('testcontainers');
  if (kind === 'redis') {
    const c = await new GenericContainer('redis:7-alpine').withExposedPorts(6379).start();
    return { url: `redis://${c.getHost()}:${c.getMappedPort(6379)}`, stop: async () => void (await c.stop()) };
  }
  const c = await new GenericContainer('influxdb:1.8')
    .withExposedPorts(8086)
    .withWaitStrategy(Wait.forHttp('/ping', 8086).forStatusCode(204))
    .start();
  return { url: `http://${c.getHost()}:${c.getMappedPort(8086)}`, stop: async () => void (await c.stop()) };
}

async function fromLocal(start: () => Promise<LocalService>): Promise<{ url: string; stop: Stop }> {
  const svc = await start();
  return { url: svc.url, stop: () => svc.destroy() };
}

export default async function setup(project: TestProject): Promise<Stop> {
  const stops: Stop[] = [];
  const useContainers = (!process.env.INFLUX_URL || !process.env.REDIS_URL) && containerRuntimeAvailable();
  const problems: string[] = [];

  async function provide(kind: 'influxdb' | 'redis'): Promise<string> {
    const envUrl = kind === 'influxdb' ? process.env.INFLUX_URL : process.env.REDIS_URL;
    if (envUrl) return envUrl;
    try {
      const svc = useContainers
        ? await fromContainer(kind)
        : await fromLocal(kind === 'influxdb' ? startLocalInflux : startLocalRedis);
      stops.push(svc.stop);
      return svc.url;
    } catch (err) {
      problems.push(`${kind}: ${(err as Error).message}`);
      return '';
    }
  }

  const [influxUrl, redisUrl] = await Promise.all([provide('influxdb'), provide('redis')]);
  if (problems.length > 0) {
    await Promise.all(stops.map(s => s()));
    throw new Error(
      `integration tests need a real InfluxDB and Redis:\n  ${problems.join('\n  ')}\n` +
        'Set INFLUX_URL and REDIS_URL, run a container engine, or apt-get install -y influxdb redis-server.',
    );
  }
  project.provide('influxUrl', influxUrl);
  project.provide('redisUrl', redisUrl);
  return async () => {
    await Promise.all(stops.map(s => s()));
  };
}
