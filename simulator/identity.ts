// Per-miner identity (uid, serials, MAC, hostname, firmware), deterministic from seed and index.
import type { ModelSpec } from './models.ts';
import { ALPHANUMERIC, HEX, Rng, UPPER_ALPHANUMERIC, hash4 } from './random.ts';

/** Braiins OS firmware version: `YYYY-MM-DD-<n>-<8 hex>-<YY.MM[.x]>-plus`. */
export const FIRMWARE_VERSION_PATTERN =
  /^(\d{4})-(\d{2})-(\d{2})-(\d+)-([0-9a-f]{8})-(\d{2}\.\d{2}(?:\.\d+)?)-plus$/;

/** The firmware most of a simulated fleet runs (API 1.11.0 ↔ BOS 26.05). */
export const FIRMWARE_CURRENT = '2026-05-11-0-0ce150e9-26.05-plus';
/** An older release a share of the fleet still runs (makes rollouts meaningful). */
export const FIRMWARE_PREVIOUS = '2026-01-20-0-6f4d2a91-26.01-plus';

export function isFirmwareVersion(version: string): boolean {
  return FIRMWARE_VERSION_PATTERN.test(version);
}

/** Release part of a firmware version ("26.05" of "2026-05-11-0-0ce150e9-26.05-plus"), or undefined. */
export function firmwareRelease(version: string): string | undefined {
  return FIRMWARE_VERSION_PATTERN.exec(version)?.[6];
}

/** BosVersion.major for a version: the same string with a point release's ".x" dropped. */
export function firmwareMajor(version: string): string {
  const m = FIRMWARE_VERSION_PATTERN.exec(version);
  if (!m) return version;
  const release = (m[6] ?? '').split('.').slice(0, 2).join('.');
  return `${m[1]}-${m[2]}-${m[3]}-${m[4]}-${m[5]}-${release}-plus`;
}

export interface MinerIdentityInfo {
  /** Braiins miner uid: 16 alphanumerics. */
  uid: string;
  serialNumber: string;
  /** Lower-case colon-separated MAC, unique within the fleet. */
  macAddress: string;
  hostname: string;
  boardSerials: string[];
  psuSerial?: string;
  firmware: string;
}

/**
 * Identity of the miner at `index` (0-based). MAC addresses embed the index so they never collide;
 * everything else comes from a PRNG seeded by (seed, index).
 */
export function makeIdentity(
  seed: number,
  index: number,
  spec: ModelSpec,
  firmware?: string,
): MinerIdentityInfo {
  const rng = new Rng(hash4(seed, index, 0x1d));
  const uid = rng.chars(16, ALPHANUMERIC);
  const serialNumber = `${spec.minerSerialPrefix}${rng.chars(17 - spec.minerSerialPrefix.length, UPPER_ALPHANUMERIC)}`;
  const seedByte = (hash4(seed, 0x3ac) & 0xff).toString(16).padStart(2, '0');
  const n = index + 1;
  const mac = [
    'a2',
    'b0',
    seedByte,
    ((n >>> 16) & 0xff).toString(16),
    ((n >>> 8) & 0xff).toString(16),
    (n & 0xff).toString(16),
  ]
    .map(p => p.padStart(2, '0'))
    .join(':');
  const hostname = `bos-${spec.key}-${rng.chars(6, HEX)}`;
  const boardSerials = spec.boardIds.map(
    () => `${spec.boardSerialPrefix}${rng.chars(17 - spec.boardSerialPrefix.length, UPPER_ALPHANUMERIC)}`,
  );
  const psuSerial = spec.psu ? `${spec.psu.serialPrefix}${rng.chars(13, UPPER_ALPHANUMERIC)}` : undefined;
  const fw = firmware ?? (rng.next() < 0.15 ? FIRMWARE_PREVIOUS : FIRMWARE_CURRENT);
  return {
    uid,
    serialNumber,
    macAddress: mac,
    hostname,
    boardSerials,
    ...(psuSerial ? { psuSerial } : {}),
    firmware: fw,
  };
}
