import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { connect, waitFor } from './helpers.ts';

// The simulator as users run it (the CLI in its own process): when every miner reboots at once
// nothing else holds the process, and it must still wait for them and bring them back.
const children: ReturnType<typeof spawn>[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
});

describe('simulator process', () => {
  it('keeps running through a fleet-wide reboot and brings every miner back', async () => {
    const child = spawn(
      process.execPath,
      [resolve('bin/bos-fleet.ts'), 'simulator', '--miners', '2', '--seed', '3', '--base-address', '127.67.0.1', '--faults', 'reboot_loop=2:2', '--reboot-ms', '1500'],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' } },
    );
    children.push(child);
    let stderr = '';
    child.stderr!.on('data', d => (stderr += String(d)));
    let exited: number | null | undefined;
    child.once('exit', c => (exited = c));
    const rebooting = () => (stderr.match(/miner rebooting/g) ?? []).length;
    const back = () => (stderr.match(/miner back from reboot/g) ?? []).length;
    await waitFor(() => rebooting() >= 2 || exited !== undefined, 20_000);
    expect(exited, `simulator exited during the reboot: ${stderr.slice(-500)}`).toBeUndefined();
    await waitFor(() => back() >= 2 || exited !== undefined, 20_000);
    expect(exited, `simulator exited during the reboot: ${stderr.slice(-500)}`).toBeUndefined();
    // and the miners answer again
    const c = connect('127.67.0.1:50051');
    try {
      const v = await waitFor(async () => {
        try {
          return (await c.call<{ major: number }>('ApiVersionService', 'GetApiVersion', {}, undefined, 1_000)).res;
        } catch {
          return undefined;
        }
      }, 10_000);
      expect(v.major).toBeGreaterThanOrEqual(1);
    } finally {
      c.close();
    }
  }, 60_000);
});
