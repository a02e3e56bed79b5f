/**
 * What a firmware file says about itself, read before it is stored. Two formats are firmware:
 *  - `bos-fleet`: the simulator's test image (`BOSFLEET-FW1\n` + one JSON header line with
 *    `version` and optional `platform`);
 *  - `tar`: a Braiins OS upgrade archive (POSIX ustar). Its contents are signed with the vendor's
 *    key and its layout is not published, so neither version nor platform is read from it: the
 *    declared values are taken as given.
 * Anything else cannot be a firmware image and is refused before it reaches a miner.
 */

export interface FirmwareImageMetadata {
  format: 'bos-fleet' | 'tar';
  /** version the image says it installs; null when the format does not say */
  version: string | null;
  /** PLATFORM_… enum name the image is built for; null = not stated (any) */
  platform: string | null;
}

export class FirmwareMetadataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FirmwareMetadataError';
  }
}

const BOS_FLEET_MAGIC = Buffer.from('BOSFLEET-FW1\n', 'utf8');
const MAX_HEADER_BYTES = 4_096;
/** Bytes of the file needed to recognise it. */
export const METADATA_PREFIX_BYTES = BOS_FLEET_MAGIC.length + MAX_HEADER_BYTES + 1;
const VERSION_RE = /^\d{4}-\d{2}-\d{2}-\d+-[0-9a-f]{8}-\d{2}\.\d{2}(\.\d+)?-plus$/;
const PLATFORM_RE = /^PLATFORM_[A-Z0-9_]+$/;

function isTar(head: Buffer): boolean {
  // ustar magic at offset 257 ("ustar\0" POSIX, "ustar " GNU).
  return head.length >= 263 && head.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Reads the metadata from the first METADATA_PREFIX_BYTES of a file; throws FirmwareMetadataError. */
export function readFirmwareMetadata(head: Buffer): FirmwareImageMetadata {
  if (
    head.length >= BOS_FLEET_MAGIC.length &&
    head.subarray(0, BOS_FLEET_MAGIC.length).equals(BOS_FLEET_MAGIC)
  ) {
    const end = head.indexOf(0x0a, BOS_FLEET_MAGIC.length);
    if (end < 0) throw new FirmwareMetadataError('the image header line is missing or longer than 4 KiB');
    let header: unknown;
    try {
      header = JSON.parse(head.subarray(BOS_FLEET_MAGIC.length, end).toString('utf8'));
    } catch {
      throw new FirmwareMetadataError('the image header is not valid JSON');
    }
    const { version, platform } = (typeof header === 'object' && header !== null ? header : {}) as {
      version?: unknown;
      platform?: unknown;
    };
    if (typeof version !== 'string' || !VERSION_RE.test(version))
      throw new FirmwareMetadataError(
        `the image header has no valid version (got ${JSON.stringify(version)}; expected YYYY-MM-DD-<n>-<8 hex>-<YY.MM[.x]>-plus)`,
      );
    if (platform !== undefined && (typeof platform !== 'string' || !PLATFORM_RE.test(platform)))
      throw new FirmwareMetadataError(
        `the image header has a bad platform ${JSON.stringify(platform)}; expected PLATFORM_…`,
      );
    return { format: 'bos-fleet', version, platform: platform ?? null };
  }
  if (isTar(head)) return { format: 'tar', version: null, platform: null };
  throw new FirmwareMetadataError(
    'this file is not a firmware image: expected a Braiins OS upgrade archive (tar) or a BOSFLEET-FW1 image',
  );
}
