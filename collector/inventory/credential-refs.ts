import type { CredentialStore } from '../credentials.ts';
import type { Logger } from '../../runtime/logger.ts';
import { fileMtime, loadInventoryFile } from './file-source.ts';

/**
 * Keeps a CredentialStore's file entries in step with the inventory file's `credentials`
 * section, for processes that talk to miners but do not poll them (the API, stdio MCP).
 */
export async function followCredentialRefs(path: string, store: CredentialStore, log: Logger, checkMs = 5_000): Promise<() => void> {
  let mtime: number | null = null;
  const load = async (): Promise<void> => {
    const m = await fileMtime(path);
    if (m === null || m === mtime) return;
    mtime = m;
    try {
      store.setFileRefs((await loadInventoryFile(path)).credentials);
    } catch (err) {
      log.warn({ file: path, err: (err as Error).message }, 'inventory credentials not reloaded; keeping the previous ones');
    }
  };
  await load();
  const timer = setInterval(() => void load(), checkMs);
  timer.unref();
  return () => clearInterval(timer);
}
