// MinerService: identity, stats, hashboards, errors, the status stream, logs, support archive,
// enabling/disabling hashboards.
import { status as grpcStatus } from '@grpc/grpc-js';

import type {
  DisableHashboardsResponseInput,
  EnableHashboardsResponseInput,
  GetErrorsResponseInput,
  GetHashboardsResponseInput,
  GetLogRequestOutput,
  GetLogResponseInput,
  GetMinerDetailsResponseInput,
  GetMinerStatsResponseInput,
  GetMinerStatusResponseInput,
  GetSupportArchiveRequestOutput,
  GetSupportArchiveResponseInput,
  EnableHashboardsRequestOutput,
  HashboardInput,
} from '../../proto/types.ts';
import { firmwareMajor } from '../identity.ts';
import { activeErrors } from '../miner-errors.ts';
import { unimplemented } from '../rpc-error.ts';
import { logText, supportFiles, tarGzArchive, zipArchive } from '../support-files.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { allPools, celsius, ghs, hz, isoSeconds, poolStats, volt, watt, workSolverStats } from './common.ts';
import { serverStream, unary, type ServiceHandlers } from './types.ts';

const CHUNK_BYTES = 16 * 1024;

function bestShare(miner: VirtualMiner): number {
  return allPools(miner.poolGroups).reduce((m, p) => Math.max(m, p.bestShare), 0);
}

export function minerDetails(miner: VirtualMiner, now: number): GetMinerDetailsResponseInput {
  const spec = miner.spec;
  const view = miner.view(now);
  const psu = spec.psu;
  return {
    uid: miner.identity.uid,
    miner_identity: {
      brand: 'MINER_BRAND_ANTMINER',
      model: spec.legacyModel,
      name: spec.name,
      miner_model: spec.name,
    },
    platform: spec.platform,
    bos_mode: spec.key === 's9' ? 'BOS_MODE_NAND' : 'BOS_MODE_EMMC',
    bos_version: { current: miner.firmware, major: firmwareMajor(miner.firmware), bos_plus: true },
    hostname: miner.network.hostname,
    mac_address: miner.identity.macAddress,
    system_uptime: view.systemUptimeS,
    sticker_hashrate: ghs(spec.stickerGhs),
    bosminer_uptime_s: view.bosminerUptimeS,
    system_uptime_s: view.systemUptimeS,
    status: view.status,
    kernel_version: spec.kernelVersion,
    ...(psu && miner.identity.psuSerial
      ? {
          psu_info: {
            version: { value: psu.version },
            fw_version: { value: psu.fwVersion },
            serial_number: miner.identity.psuSerial,
            model_name: psu.modelName,
            min_voltage: volt(psu.minVoltageV),
            max_voltage: volt(psu.maxVoltageV),
          },
        }
      : {}),
    control_board_soc_family: spec.socFamily,
    serial_number: miner.identity.serialNumber,
  };
}

export function minerStats(miner: VirtualMiner, now: number): GetMinerStatsResponseInput {
  const view = miner.view(now);
  return {
    pool_stats: poolStats(allPools(miner.poolGroups)),
    miner_stats: workSolverStats({ ...view, bestShare: bestShare(miner) }),
    power_stats: {
      approximated_consumption: watt(view.powerW),
      efficiency: { joule_per_terahash: Math.round(view.efficiencyJth * 100) / 100 },
    },
  };
}

export function hashboards(miner: VirtualMiner, now: number): GetHashboardsResponseInput {
  const view = miner.view(now);
  const spec = miner.spec;
  const best = bestShare(miner);
  const boards: HashboardInput[] = view.boards.map(b => ({
    id: b.id,
    enabled: b.enabled,
    chips_count: { value: b.chips },
    current_voltage: volt(b.voltageV),
    current_frequency: hz(b.frequencyHz),
    highest_chip_temp: { id: b.index, location: 'SENSOR_LOCATION_CHIP', temperature: celsius(b.chipTempC) },
    board_temp: celsius(b.boardTempC),
    stats: workSolverStats({ ...b, bestShare: Math.round(best / view.boards.length) }),
    model: spec.boardModel,
    lowest_inlet_temp: celsius(b.inletC),
    highest_outlet_temp: celsius(b.outletC),
    serial_number: b.serial,
    board_name: `${spec.boardModel} #${b.id}`,
    chip_type: spec.chipType,
    ...(miner.cooling.mode === 'hydro'
      ? { lowest_water_inlet_temp: celsius(view.ambientC + 3), highest_water_outlet_temp: celsius(b.outletC) }
      : {}),
  }));
  return { hashboards: boards };
}

export function minerErrors(miner: VirtualMiner, now: number): GetErrorsResponseInput {
  const view = miner.view(now);
  return {
    errors: activeErrors(miner, view, now).map(e => ({
      timestamp: isoSeconds(e.atMs),
      message: e.message,
      error_codes: e.codes,
      components: e.components,
    })),
  };
}

function chunks(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0; off < data.length; off += CHUNK_BYTES) out.push(data.subarray(off, off + CHUNK_BYTES));
  return out;
}

function boardToggle(enabled: boolean) {
  return unary<EnableHashboardsRequestOutput, EnableHashboardsResponseInput & DisableHashboardsResponseInput>(
    ({ miner, now, request }) => ({
      hashboards: miner.setBoardsEnabled(now, request.hashboard_ids, enabled),
    }),
  );
}

export const minerHandlers: ServiceHandlers = {
  GetMinerDetails: unary<unknown, GetMinerDetailsResponseInput>(
    ({ miner, now }) => minerDetails(miner, now),
    { cache: true },
  ),
  GetMinerStats: unary<unknown, GetMinerStatsResponseInput>(({ miner, now }) => minerStats(miner, now), {
    cache: true,
  }),
  GetHashboards: unary<unknown, GetHashboardsResponseInput>(({ miner, now }) => hashboards(miner, now), {
    cache: true,
  }),
  GetErrors: unary<unknown, GetErrorsResponseInput>(({ miner, now }) => minerErrors(miner, now), {
    cache: true,
  }),

  // Emits the current status on subscribe, then every change; stays open until the client
  // cancels, or ends with UNAVAILABLE when the miner goes down (reboot, unreachable).
  GetMinerStatus: serverStream<unknown, GetMinerStatusResponseInput>(({ miner }, call) => {
    let open = true;
    const close = (): void => {
      if (!open) return;
      open = false;
      off();
    };
    const off = miner.on(e => {
      if (!open) return;
      if (e.type === 'status') {
        call.write({ status: e.status });
      } else if (e.type === 'reachability' && !e.reachable) {
        close();
        call.emit('error', { code: grpcStatus.UNAVAILABLE, details: 'miner went offline' });
      }
    });
    call.on('cancelled', close);
    call.on('close', close);
    call.on('error', close);
    call.write({ status: miner.status });
  }),

  GetLog: serverStream<GetLogRequestOutput, GetLogResponseInput>(({ miner, now, request }, call) => {
    const text = logText(miner, miner.view(now), request.log_type, now);
    for (const chunk of chunks(Buffer.from(text, 'utf8'))) call.write({ chunk_data: chunk });
    call.end();
  }),

  GetSupportArchive: serverStream<GetSupportArchiveRequestOutput, GetSupportArchiveResponseInput>(
    ({ miner, now, request }, call) => {
      const files = supportFiles(miner, miner.view(now), now);
      let archive: Buffer;
      if (request.format === 'SUPPORT_ARCHIVE_FORMAT_BOS') archive = tarGzArchive(files, now);
      else if (request.format === 'SUPPORT_ARCHIVE_FORMAT_ZIP_ENCRYPTED') {
        const err = unimplemented('encrypted support archives are not simulated; use ZIP or BOS');
        call.emit('error', { code: err.code, details: err.message });
        return;
      } else archive = zipArchive(files, now);
      for (const chunk of chunks(archive)) call.write({ chunk_data: chunk });
      call.end();
    },
  ),

  EnableHashboards: boardToggle(true),
  DisableHashboards: boardToggle(false),
};
