// ActionsService: start/stop bosminer, pause/resume mining, restart, reboot, factory reset, locate.
import type {
  LocateDeviceStatusResponseInput,
  PauseMiningResponseInput,
  RestartResponseInput,
  ResumeMiningResponseInput,
  SetLocateDeviceStatusRequestOutput,
  StartResponseInput,
  StopResponseInput,
} from '../../proto/types.ts';
import { unary, type ServiceHandlers } from './types.ts';

export const actionsHandlers: ServiceHandlers = {
  Start: unary<unknown, StartResponseInput>(({ miner, now }) => ({ already_running: miner.start(now) })),
  Stop: unary<unknown, StopResponseInput>(({ miner, now }) => ({ already_stopped: miner.stop(now) })),
  PauseMining: unary<unknown, PauseMiningResponseInput>(({ miner, now }) => ({
    already_paused: miner.pause(now),
  })),
  ResumeMining: unary<unknown, ResumeMiningResponseInput>(({ miner, now }) => ({
    already_mining: miner.resume(now),
  })),
  Restart: unary<unknown, RestartResponseInput>(({ miner, now }) => ({
    already_running: miner.restartMining(now),
  })),
  Reboot: unary<unknown, object>(({ miner, runtime }) => {
    runtime.reboot(miner, 'reboot requested');
    return {};
  }),
  FactoryReset: unary<unknown, object>(({ miner, now, runtime }) => {
    miner.factoryReset(now, runtime.defaultPassword);
    runtime.reboot(miner, 'factory reset');
    return {};
  }),
  SetLocateDeviceStatus: unary<SetLocateDeviceStatusRequestOutput, LocateDeviceStatusResponseInput>(
    ({ miner, request }) => {
      miner.locate = request.enable;
      miner.changed();
      return { enabled: miner.locate };
    },
  ),
  GetLocateDeviceStatus: unary<unknown, LocateDeviceStatusResponseInput>(({ miner }) => ({
    enabled: miner.locate,
  })),
};
