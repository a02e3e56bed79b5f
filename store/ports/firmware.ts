/**
 * Firmware images for rollouts and what each rollout put on each miner. The bytes are
 * content-addressed by SHA-256 and shared: two tenants uploading the same image hold one copy,
 * deleted when the last of them deletes its image. The metadata is per tenant.
 */

export interface FirmwareImage {
  sha256: string;
  name: string;
  version: string;
  /** platform the image is built for (PLATFORM_…); null = not stated, any platform */
  platform: string | null;
  /** how the image's metadata was read (null for images stored before validation existed) */
  format: 'bos-fleet' | 'tar' | null;
  /** where `version` comes from: the image itself, or only the uploader's word */
  version_source: 'image' | 'declared' | null;
  size_bytes: number;
  uploaded_ms: number;
  uploaded_by: string;
}

/** The image a rollout last put on a miner (used to roll back). */
export interface AppliedImage {
  sha256: string;
  version: string;
  applied_ms: number;
}

export interface FirmwarePort {
  /**
   * A fresh file path for an upload in progress, beside the kept images so keeping it is a
   * rename. The caller writes it, and deletes it when it is not kept.
   */
  stagingFile(): Promise<string>;
  /** Keep a staged file as the bytes of image.sha256 (moved, not copied) and record the tenant's image. */
  keepImage(tenant: string, image: FirmwareImage, stagedFile: string): Promise<void>;
  getImage(tenant: string, sha256: string): Promise<FirmwareImage | null>;
  /** The tenant's images, newest upload first. */
  listImages(tenant: string): Promise<FirmwareImage[]>;
  /** Forget the tenant's image (its bytes go once no tenant holds it); false when it had none. */
  deleteImage(tenant: string, sha256: string): Promise<boolean>;
  /** The stored bytes (not verified here); null when the file is missing. */
  readImageBytes(sha256: string): Promise<Buffer | null>;
  hasImageBytes(sha256: string): Promise<boolean>;

  appliedImage(tenant: string, minerId: string): Promise<AppliedImage | null>;
  recordApplied(tenant: string, minerId: string, applied: AppliedImage): Promise<void>;
}
