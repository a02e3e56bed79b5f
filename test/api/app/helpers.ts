import { influxRedisStoreOver } from '../../../store/influx-redis/index.ts';
import type { FastifyInstance } from 'fastify';
import { SignJWT, exportSPKI, generateKeyPair, type CryptoKey } from 'jose';
import { buildApp, type ApiRoutePlugin } from '../../../api/app.ts';
import { apiConfigSchema, type ApiConfig } from '../../../api/config.ts';
import type { ApiInfra } from '../../../services/context.ts';
import { createApiMetrics, type ApiMetrics } from '../../../api/metrics.ts';
import { FleetQuery } from '../../../services/query/fleet-query.ts';
import { parseConfig } from '../../../runtime/config-loader.ts';
import { CredentialStore } from '../../../collector/credentials.ts';
import type { InfluxClient } from '../../../store/influx-redis/influx-client.ts';
import { silentLogger } from '../../../runtime/logger.ts';
import { MinerClientPool } from '../../../collector/miner-client-pool.ts';
import { POLL_MS, type FleetFixture } from '../../services/query/fleet-fixture.ts';
import { farmOf } from '../../store/backends.ts';

/** Test signing keys (jose generateKeyPair) and a token minter with the API's default iss/aud. */
export interface TestKeys {
  privateKey: CryptoKey;
  publicPem: string;
  token(
    claims?: Record<string, unknown>,
    o?: {
      sub?: string;
      iss?: string;
      aud?: string;
      expS?: number;
      key?: CryptoKey;
      alg?: string;
      kid?: string;
    },
  ): Promise<string>;
}

export async function testKeys(alg: 'ES256' | 'RS256' = 'ES256'): Promise<TestKeys> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicPem = await exportSPKI(publicKey);
  return {
    privateKey,
    publicPem,
    async token(claims = { tenant: 'acme', roles: ['viewer'] }, o = {}) {
      const now = Math.floor(Date.now() / 1_000);
      return await new SignJWT(claims)
        .setProtectedHeader({ alg: o.alg ?? alg, ...(o.kid ? { kid: o.kid } : {}) })
        .setSubject(o.sub ?? 'alice')
        .setIssuer(o.iss ?? 'bos-fleet')
        .setAudience(o.aud ?? 'bos-fleet')
        .setIssuedAt(now - 60)
        .setExpirationTime(o.expS ?? now + 3_600)
        .sign(o.key ?? privateKey);
    },
  };
}

export function testConfig(over: Record<string, string | undefined> = {}): ApiConfig {
  return parseConfig(apiConfigSchema, {
    LOG_LEVEL: 'silent',
    RATE_LIMIT_MAX: '100000',
    RATE_LIMIT_AUTH_FAILURES_MAX: '100000',
    ...over,
  });
}

export interface TestApp {
  app: FastifyInstance;
  fleetQuery: FleetQuery;
  metrics: ApiMetrics;
  infra: ApiInfra;
}

/**
 * The real app over the fixture's store, with the fixture's clock. `influx` (farm only) swaps
 * the InfluxDB client, e.g. for one that cannot reach it.
 */
export async function buildTestApp(
  fx: FleetFixture,
  o: { config?: ApiConfig; extraRoutes?: ApiRoutePlugin[]; influx?: InfluxClient } = {},
): Promise<TestApp> {
  const config = o.config ?? testConfig();
  const credentials = new CredentialStore({});
  const infra: ApiInfra = {
    config,
    log: silentLogger(),
    store: o.influx ? influxRedisStoreOver({ redis: farmOf(fx.store).redis, keys: farmOf(fx.store).keys, influx: o.influx }) : fx.store,
    minerPool: new MinerClientPool(credentials),
    credentials,
  };
  const metrics = createApiMetrics();
  const fleetQuery = new FleetQuery({ store: infra.store, metrics },
    { pollIntervalMs: POLL_MS, now: () => fx.nowMs },
  );
  const app = await buildApp({ infra, fleetQuery, metrics, extraRoutes: o.extraRoutes ?? [] });
  await app.ready();
  return { app, fleetQuery, metrics, infra };
}

/** A different client address per call site keeps per-IP limiter counts of one test away from the next. */
let ipCounter = 10;
export function freshIp(): string {
  ipCounter++;
  return `10.99.${Math.floor(ipCounter / 250)}.${ipCounter % 250}`;
}
