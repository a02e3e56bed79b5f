// UpgradeService: auto-upgrade schedule, firmware upload (client stream) and restore to stock.
import type {
  AutoUpgradeScheduleInput,
  GetAutoUpgradeStatusResponseInput,
  RestoreStockResponseInput,
  SystemUpgradeRequestOutput,
  SystemUpgradeResponseInput,
  UpdateAutoUpgradeConfigRequestOutput,
  UpdateAutoUpgradeConfigResponseInput,
  UpgradeTime,
} from '../../proto/types.ts';
import { FirmwareImageError, parseFirmwareImage, sha256Hex } from '../firmware-image.ts';
import type { AutoUpgradeConfig } from '../miner-config.ts';
import { hash4 } from '../random.ts';
import { invalidArgument, unimplemented } from '../rpc-error.ts';
import type { VirtualMiner } from '../virtual-miner.ts';
import { timestamp } from './common.ts';
import { clientStream, unary, type ServiceHandlers } from './types.ts';

/** Largest image the simulator accepts, bytes. */
export const MAX_FIRMWARE_BYTES = 256 * 1024 * 1024;

type Schedule = NonNullable<AutoUpgradeConfig['schedule']>;

/** Schedule from a request; unset attributes are randomised (deterministically per miner). */
function scheduleFromRequest(miner: VirtualMiner, req: UpdateAutoUpgradeConfigRequestOutput): Schedule {
  const r = (salt: number, n: number): number => hash4(miner.seed, miner.index, 0xa0 + salt) % n;
  const time = (t: UpgradeTime | null | undefined): { hours: number; minutes: number; seconds: number } => {
    const out = {
      hours: t?.hours ?? r(1, 24),
      minutes: t?.minutes ?? r(2, 60),
      seconds: t?.seconds ?? r(3, 60),
    };
    if (out.hours > 23 || out.minutes > 59 || out.seconds > 59)
      throw invalidArgument('schedule time must be within 00:00:00–23:59:59');
    return out;
  };
  const s = req.schedule;
  if (s?.schedule_type === 'weekly') {
    const day = s.weekly?.day_of_week;
    const dayOfWeek =
      day && day !== 'DAY_OF_WEEK_UNSPECIFIED'
        ? [
            'DAY_OF_WEEK_MONDAY',
            'DAY_OF_WEEK_TUESDAY',
            'DAY_OF_WEEK_WEDNESDAY',
            'DAY_OF_WEEK_THURSDAY',
            'DAY_OF_WEEK_FRIDAY',
            'DAY_OF_WEEK_SATURDAY',
            'DAY_OF_WEEK_SUNDAY',
          ].indexOf(day) + 1
        : r(4, 7) + 1;
    return { kind: 'weekly', dayOfWeek, ...time(s.weekly?.time) };
  }
  if (s?.schedule_type === 'monthly') {
    const dayOfMonth = s.monthly?.day_of_month ?? r(5, 28) + 1;
    if (dayOfMonth < 1 || dayOfMonth > 28)
      throw invalidArgument(`day_of_month must be 1–28, got ${dayOfMonth}`);
    return { kind: 'monthly', dayOfMonth, ...time(s.monthly?.time) };
  }
  return { kind: 'daily', ...time(s?.daily?.time) };
}

/** Next execution of a schedule after `now` (UTC), ms. */
export function nextExecution(s: Schedule, now: number): number {
  const d = new Date(now);
  const at = (y: number, m: number, day: number): number =>
    Date.UTC(y, m, day, s.hours, s.minutes, s.seconds);
  if (s.kind === 'daily') {
    const t = at(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
    return t > now ? t : t + 86_400_000;
  }
  if (s.kind === 'weekly') {
    const today = ((d.getUTCDay() + 6) % 7) + 1;
    let t = at(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + ((s.dayOfWeek - today + 7) % 7));
    if (t <= now) t += 7 * 86_400_000;
    return t;
  }
  let t = at(d.getUTCFullYear(), d.getUTCMonth(), s.dayOfMonth);
  if (t <= now) t = at(d.getUTCFullYear(), d.getUTCMonth() + 1, s.dayOfMonth);
  return t;
}

function scheduleMessage(s: Schedule): AutoUpgradeScheduleInput {
  const time = { hours: s.hours, minutes: s.minutes, seconds: s.seconds };
  if (s.kind === 'weekly') {
    const days = [
      'DAY_OF_WEEK_MONDAY',
      'DAY_OF_WEEK_TUESDAY',
      'DAY_OF_WEEK_WEDNESDAY',
      'DAY_OF_WEEK_THURSDAY',
      'DAY_OF_WEEK_FRIDAY',
      'DAY_OF_WEEK_SATURDAY',
      'DAY_OF_WEEK_SUNDAY',
    ] as const;
    return { weekly: { day_of_week: days[s.dayOfWeek - 1] ?? 'DAY_OF_WEEK_MONDAY', time } };
  }
  if (s.kind === 'monthly') return { monthly: { day_of_month: s.dayOfMonth, time } };
  return { daily: { time } };
}

export const upgradeHandlers: ServiceHandlers = {
  UpdateAutoUpgradeConfig: unary<UpdateAutoUpgradeConfigRequestOutput, UpdateAutoUpgradeConfigResponseInput>(
    ({ miner, now, request }) => {
      const schedule =
        request.schedule || request.enabled
          ? scheduleFromRequest(miner, request)
          : miner.autoUpgrade.schedule;
      miner.autoUpgrade = {
        ...miner.autoUpgrade,
        enabled: request.enabled,
        ...(schedule ? { schedule } : {}),
      };
      miner.changed();
      return {
        enabled: miner.autoUpgrade.enabled,
        ...(miner.autoUpgrade.enabled && schedule
          ? { next_execution: timestamp(nextExecution(schedule, now)) }
          : {}),
      };
    },
  ),

  GetAutoUpgradeStatus: unary<unknown, GetAutoUpgradeStatusResponseInput>(({ miner, now }) => {
    const a = miner.autoUpgrade;
    return {
      enabled: a.enabled,
      ...(a.schedule ? { schedule: scheduleMessage(a.schedule) } : {}),
      ...(a.enabled && a.schedule ? { next_execution: timestamp(nextExecution(a.schedule, now)) } : {}),
      ...(a.lastExecutionMs !== undefined ? { last_execution: timestamp(a.lastExecutionMs) } : {}),
    };
  }),

  // Metadata {size, sha256 hex} first, then data chunks. The image must match size and hash and
  // carry a valid BOSFLEET-FW1 header; then the miner answers successful=true and reboots into it.
  SystemUpgrade: clientStream<SystemUpgradeRequestOutput, SystemUpgradeResponseInput>(
    ({ miner, runtime, now }, call, done) => {
      const v = miner.apiVersion;
      // Firmware before API 1.10 (BOS 26.04) has no SystemUpgrade.
      if (v.major < 1 || (v.major === 1 && v.minor < 10)) {
        call.on('data', () => undefined);
        done(unimplemented(`SystemUpgrade needs API 1.10; this miner speaks ${v.major}.${v.minor}.${v.patch}`));
        return;
      }
      let meta: { size: number; hash: string } | undefined;
      const chunks: Buffer[] = [];
      let received = 0;
      let finished = false;
      const fail = (message: string): void => {
        if (finished) return;
        finished = true;
        chunks.length = 0;
        done(invalidArgument(message));
      };
      call.on('data', (req: SystemUpgradeRequestOutput) => {
        if (finished) return;
        if (req.payload === 'metadata' && req.metadata) {
          if (meta) return fail('metadata must be sent once, before the data');
          const { size, hash } = req.metadata;
          if (!(size > 0 && size <= MAX_FIRMWARE_BYTES))
            return fail(`metadata.size must be 1–${MAX_FIRMWARE_BYTES} bytes, got ${size}`);
          if (!/^[0-9a-fA-F]{64}$/.test(hash))
            return fail('metadata.hash must be the SHA-256 of the image as 64 hex digits');
          meta = { size, hash: hash.toLowerCase() };
          return;
        }
        if (req.payload === 'data' && req.data) {
          if (!meta) return fail('the first message must carry the metadata');
          received += req.data.length;
          if (received > meta.size) return fail(`received more than the declared ${meta.size} bytes`);
          chunks.push(Buffer.from(req.data));
          return;
        }
        fail('each message must carry metadata or data');
      });
      call.on('end', () => {
        if (finished) return;
        if (!meta) return fail('no metadata received');
        if (received !== meta.size)
          return fail(`size mismatch: declared ${meta.size} bytes, received ${received}`);
        const image = Buffer.concat(chunks);
        const hash = sha256Hex(image);
        if (hash !== meta.hash) return fail(`SHA-256 mismatch: declared ${meta.hash}, image is ${hash}`);
        let parsed;
        try {
          parsed = parseFirmwareImage(image);
        } catch (err) {
          return fail(
            err instanceof FirmwareImageError
              ? `corrupt firmware image: ${err.message}`
              : 'corrupt firmware image',
          );
        }
        finished = true;
        const mode = miner.fault('upgrade_failure')?.mode;
        const wrongPlatform = parsed.platform !== undefined && parsed.platform !== miner.spec.platform;
        if (mode === 'refuse_upload' || wrongPlatform) {
          // The miner keeps running its firmware untouched and records why.
          miner.upgradeFailures.push({
            atMs: now,
            message: wrongPlatform
              ? `Upgrade to ${parsed.version} refused: the image is for ${parsed.platform}, this miner is ${miner.spec.platform}`
              : `Upgrade to ${parsed.version} refused: the image failed verification`,
          });
          miner.changed();
          done(null, { successful: false });
          return;
        }
        done(null, { successful: true });
        runtime.upgrade(miner, parsed, mode ?? parsed.behaviour);
      });
    },
  ),

  RestoreStock: unary<unknown, RestoreStockResponseInput>(({ miner, runtime }) => {
    runtime.restoreStock(miner);
    return { successful: true };
  }),
};
