import type { ApiConfig } from '../api/config.ts';
import { startApiServer, type ApiServer } from '../api/server.ts';
import { fullApiExtension } from '../api/wiring.ts';
import { startCollector, type CollectorHandle } from '../collector/collector-service.ts';
import type { CollectorConfig } from '../collector/config.ts';
import type { Store } from '../store/store.ts';
import type { Logger } from './logger.ts';

/**
 * The whole product in one process on one Store: the collector polling into it and the API
 * (REST, MCP over HTTP, the console) serving from it. `bos-fleet start` and the demo both run
 * this; the separate `collector` / `api` commands run one half each (farms).
 */
export interface OneProcessOptions {
  /** owned by the caller: opened before (the embedded lock is taken there) and closed after stop() */
  store: Store;
  collectorConfig: CollectorConfig;
  apiConfig: ApiConfig;
  log: Logger;
  /** where the collector reads MINER_PASSWORD… variables named by the inventory */
  env: NodeJS.ProcessEnv;
  /** what a user changes when a port is taken (the command's flags) */
  listenSettings: { api: string; metrics: string };
  /** serve the collector's own /metrics and /health (default true) */
  collectorHttp?: boolean;
}

export interface OneProcess {
  collector: CollectorHandle;
  api: ApiServer;
  /** API first (no new requests), then the collector (final flush); the store stays open */
  stop(): Promise<void>;
}

export async function startOneProcess(o: OneProcessOptions): Promise<OneProcess> {
  const { store, log } = o;
  const collector = await startCollector(o.collectorConfig, {
    log: log.child({ component: 'collector' }),
    env: o.env,
    store,
    http: o.collectorHttp ?? true,
    listenSettings: o.listenSettings.metrics,
  });
  let api: ApiServer;
  try {
    api = await startApiServer(o.apiConfig, {
      log: log.child({ component: 'api' }),
      handleSignals: false,
      listenSettings: o.listenSettings.api,
      // the API derives staleness and the raw resolution from the collector's interval
      env: { ...o.env, COLLECTOR_POLL_INTERVAL_MS: String(o.collectorConfig.COLLECTOR_POLL_INTERVAL_MS) },
      extension: fullApiExtension(),
      store,
    });
  } catch (err) {
    await collector.stop().catch((e: unknown) => log.warn({ err: (e as Error).message }, 'collector stop after a failed API start failed'));
    throw err;
  }
  let stopping: Promise<void> | null = null;
  return {
    collector,
    api,
    stop() {
      stopping ??= (async () => {
        await api.close().catch((err: unknown) => log.warn({ err: (err as Error).message }, 'API stop failed'));
        await collector.stop();
      })();
      return stopping;
    },
  };
}
