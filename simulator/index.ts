// Public entry of the simulator: a fleet of virtual Braiins OS miners serving the real gRPC API
// on loopback, for tests, benchmarks and the demo.
//
//   const fleet = await startSimulator({ miners: 20, seed: 7, faults: 'overheat:2' });
//   fleet.miners[0].address             // "127.1.0.1:50051"
//   fleet.truth('sim-0001').hashrate_ghs // ground truth in our units
//   fleet.injectFault('sim-0002', { kind: 'slow', delay_ms: 3000 });
//   await fleet.stop();
import { startAdminHttp } from './admin-http.ts';
import { SimulatedFleet } from './fleet.ts';
import type { SimulatorOptions } from './options.ts';

export { SimulatedFleet, type FleetSummary, type SimulatedMiner } from './fleet.ts';
export {
  SIMULATOR_TRANSPORTS,
  isSimulatorTransport,
  type SimulatorOptions,
  type ResolvedOptions,
  type SimulatorTransport,
} from './options.ts';
export type { MinerTruth, BoardTruth, FanTruth, PoolTruth } from './truth.ts';
export {
  FAULT_KINDS,
  FAULT_SPEC_HELP,
  UPGRADE_FAILURE_MODES,
  describeFault,
  parseFault,
  parseFaultSpec,
  type Fault,
  type FaultInput,
  type FaultKind,
  type FaultSpecItem,
} from './faults.ts';
export {
  FIRMWARE_BEHAVIOURS,
  FIRMWARE_MAGIC,
  FirmwareImageError,
  buildFirmwareImage,
  parseFirmwareImage,
  sha256Hex,
  upgradeMetadataFor,
  type BuildFirmwareImageOptions,
  type FirmwareBehaviour,
  type ParsedFirmwareImage,
} from './firmware-image.ts';
export { FIRMWARE_CURRENT, FIRMWARE_PREVIOUS, isFirmwareVersion } from './identity.ts';
export { MODELS, MODEL_KEYS, parseModelMix, type ModelKey, type ModelSpec } from './models.ts';
export { API_VERSION } from './handlers/auth.ts';

/**
 * Builds the fleet, binds every miner's address and (with `adminPort`) starts the admin HTTP
 * endpoint. Rejects if an address cannot be bound (e.g. the port is taken).
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<SimulatedFleet> {
  const fleet = new SimulatedFleet(options);
  try {
    await fleet.listen();
    if (fleet.options.adminPort !== undefined) {
      const admin = await startAdminHttp(fleet, fleet.options.adminPort);
      fleet.adminUrl = admin.url;
      fleet.onStop(admin.close);
    }
  } catch (err) {
    await fleet.stop();
    throw err;
  }
  return fleet;
}
