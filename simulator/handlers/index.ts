// Handlers of every service, by the short service names of proto/loader.ts bosServices().
import type { BosServiceName } from '../../proto/types.ts';
import { actionsHandlers } from './actions.ts';
import { advancedSettingsHandlers } from './advanced-settings.ts';
import { apiVersionHandlers, authenticationHandlers } from './auth.ts';
import { configurationHandlers } from './configuration.ts';
import { coolingHandlers } from './cooling.ts';
import { minerHandlers } from './miner.ts';
import { licenseHandlers, networkHandlers } from './network-license.ts';
import { performanceHandlers } from './performance.ts';
import { poolHandlers } from './pool.ts';
import type { ServiceHandlers } from './types.ts';
import { upgradeHandlers } from './upgrade.ts';

export const SERVICE_HANDLERS: Readonly<Record<BosServiceName, ServiceHandlers>> = {
  ApiVersionService: apiVersionHandlers,
  AuthenticationService: authenticationHandlers,
  MinerService: minerHandlers,
  CoolingService: coolingHandlers,
  PerformanceService: performanceHandlers,
  PoolService: poolHandlers,
  ActionsService: actionsHandlers,
  ConfigurationService: configurationHandlers,
  NetworkService: networkHandlers,
  UpgradeService: upgradeHandlers,
  LicenseService: licenseHandlers,
  AdvancedSettingsService: advancedSettingsHandlers,
};

export { API_VERSION } from './auth.ts';
export type { SimulatorRuntime } from './types.ts';
