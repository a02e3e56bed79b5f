import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * The folder of firmware image bytes both backends keep beside their metadata: `<sha256>.img`,
 * content-addressed, and `.upload-<uuid>` files for uploads in progress (same folder, so keeping
 * one is an atomic rename).
 */
export class FirmwareFolder {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
  }

  fileOf(sha256: string): string {
    return path.join(this.dir, `${sha256}.img`);
  }

  async stagingFile(): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    return path.join(this.dir, `.upload-${randomUUID()}`);
  }

  async keep(sha256: string, stagedFile: string): Promise<void> {
    await rename(stagedFile, this.fileOf(sha256));
  }

  async read(sha256: string): Promise<Buffer | null> {
    try {
      return await readFile(this.fileOf(sha256));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  async has(sha256: string): Promise<boolean> {
    return stat(this.fileOf(sha256)).then(
      () => true,
      () => false,
    );
  }

  async remove(sha256: string): Promise<void> {
    await rm(this.fileOf(sha256), { force: true });
  }

  removeNow(sha256: string): void {
    rmSync(this.fileOf(sha256), { force: true });
  }
}
