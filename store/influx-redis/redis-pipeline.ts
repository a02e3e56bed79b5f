import type { ChainableCommander } from 'ioredis';

/** EXEC a pipeline; any per-command error fails the whole call (ioredis resolves with them). */
export async function exec(p: ChainableCommander): Promise<unknown[]> {
  const results = (await p.exec()) ?? [];
  const failed = results.find(([err]) => err);
  if (failed) throw failed[0];
  return results.map(([, v]) => v);
}
