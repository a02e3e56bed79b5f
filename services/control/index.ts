import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiInfra } from '../context.ts';
import { controlRoutes } from '../../api/routes/v1/control.ts';
import { firmwareRoutes } from '../../api/routes/v1/firmware.ts';
import { inventoryRoutes } from '../../api/routes/v1/inventory.ts';
import { jobRoutes } from '../../api/routes/v1/jobs.ts';
import { scheduleRoutes } from '../../api/routes/v1/schedules.ts';
import { InventoryService } from '../inventory/inventory-service.ts';
import { JobService, type JobServiceOptions } from '../jobs/job-service.ts';
import { FirmwareStore, type FirmwareStoreOptions } from '../rollouts/firmware-store.ts';
import { RolloutService } from '../rollouts/rollout-service.ts';
import { ScheduleService, type ScheduleServiceOptions } from '../schedules/schedule-service.ts';
import { EnergyService, type EnergyServiceOptions } from '../energy/energy-service.ts';
import { curtailmentRoutes } from '../../api/routes/v1/curtailment.ts';
import type { AuditLog } from './audit.ts';
import { ControlService, type ControlServiceOptions } from './control-service.ts';
import { MinerResolver } from './selector.ts';

export {
  ControlService,
  type ControlResponse,
  type ControlTarget,
  type FleetEffect,
} from './control-service.ts';
export {
  MinerResolver,
  minerSelectorSchema,
  type MinerSelector,
  type Selection,
  type TargetMiner,
} from './selector.ts';
export { controlRequestSchema, MINER_ACTIONS, type ControlRequest, type MinerAction } from './requests.ts';
export type { AuditLog } from './audit.ts';

/** Every service of the control half, wired together (REST routes and MCP tools use these). */
export interface ControlPlane {
  control: ControlService;
  jobs: JobService;
  schedules: ScheduleService;
  /** curtailment policies, plans, demand response and their executor */
  energy: EnergyService;
  firmware: FirmwareStore;
  rollouts: RolloutService;
  inventory: InventoryService;
  /** Start the job worker (resumes waiting and stalled jobs) and the schedule evaluator. */
  start(): Promise<void>;
  /** Stop both; running jobs go back to the queue for the next process. */
  close(opts?: { force?: boolean }): Promise<void>;
}

export interface ControlPlaneOptions {
  /** Where control actions and job steps are recorded; default: the store's events port. */
  audit?: AuditLog;
  jobs?: JobServiceOptions;
  control?: ControlServiceOptions;
  schedules?: ScheduleServiceOptions & { enabled?: boolean };
  /** the curtailment executor runs where the schedule evaluator runs unless `enabled` says otherwise */
  energy?: EnergyServiceOptions & { enabled?: boolean };
  firmware?: FirmwareStoreOptions;
  inventory?: { defaultSite?: string };
}

export function createControlPlane(infra: ApiInfra, opts: ControlPlaneOptions = {}): ControlPlane {
  const o = { ...opts, audit: opts.audit ?? infra.store.events };
  const resolver = new MinerResolver(infra);
  const jobs = new JobService(infra, o.audit, o.jobs);
  const control = new ControlService(infra, { jobs, audit: o.audit, resolver }, o.control);
  const firmware = new FirmwareStore(infra, o.firmware);
  const rollouts = new RolloutService(infra, { jobs, store: firmware, resolver });
  const schedules = new ScheduleService(infra, { control, jobs }, o.schedules);
  const inventory = new InventoryService(infra, { audit: o.audit }, o.inventory);
  const runSchedules = o.schedules?.enabled ?? true;
  const energy = new EnergyService(infra, { control, jobs }, o.energy);
  const runEnergy = o.energy?.enabled ?? runSchedules;
  return {
    control,
    jobs,
    schedules,
    energy,
    firmware,
    rollouts,
    inventory,
    async start() {
      await jobs.start();
      if (runSchedules) await schedules.start();
      if (runEnergy) await energy.start();
    },
    async close(opts) {
      await energy.close();
      await schedules.close();
      await jobs.close(opts);
    },
  };
}

/**
 * The control half's REST routes, for buildApp({ extraRoutes }) (each is mounted under /api/v1
 * behind authentication): control, jobs (with the SSE stream), schedules, firmware, inventory.
 */
export function controlRoutePlugins(
  plane: ControlPlane,
  opts: { sse?: { pollMs?: number; heartbeatMs?: number } } = {},
): FastifyPluginAsyncZod[] {
  const services = plane;
  return [
    controlRoutes({ services }),
    jobRoutes({ services, ...opts.sse }),
    scheduleRoutes({ services }),
    curtailmentRoutes({ services }),
    firmwareRoutes({ services }),
    inventoryRoutes({ services }),
  ];
}
