import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// The README runs the CLI as `npx bos-fleet …` on a machine whose `node` is the system Node 20,
// which cannot run bin/bos-fleet.ts itself; bin/bos-fleet runs it with the project's Node 24.
const SYSTEM_NODE = '/usr/bin/node';
const systemPath = '/usr/local/bin:/usr/bin:/bin';
const root = resolve('.');

describe.skipIf(!existsSync(SYSTEM_NODE))('the bos-fleet command on a machine whose node is older', () => {
  const major = Number(/^v(\d+)/.exec(spawnSync(SYSTEM_NODE, ['--version'], { encoding: 'utf8' }).stdout)?.[1]);

  it('the system node is the old one (the case this guards)', () => {
    expect(major).toBeLessThan(22);
    const direct = spawnSync(SYSTEM_NODE, ['bin/bos-fleet.ts', '--version'], { cwd: root, encoding: 'utf8', env: { PATH: systemPath } });
    expect(direct.status).not.toBe(0);
  });

  it('npx bos-fleet runs the CLI', () => {
    const r = spawnSync('npx', ['--no-install', 'bos-fleet', '--version'], { cwd: root, encoding: 'utf8', env: { PATH: systemPath, HOME: process.env.HOME }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('bos-fleet 0.1.0');
  });

  it('bin/bos-fleet runs the CLI from any folder and through a symlink', () => {
    const r = spawnSync(resolve('bin/bos-fleet'), ['start', '--help'], { cwd: '/', encoding: 'utf8', env: { PATH: systemPath } });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: bos-fleet start');
    expect(r.stdout).toContain('--data-dir');
    const linked = spawnSync('sh', ['-c', `d=$(mktemp -d) && ln -s ${resolve('bin/bos-fleet')} "$d/bos-fleet" && "$d/bos-fleet" --version; s=$?; rm -rf "$d"; exit $s`], { encoding: 'utf8', env: { PATH: systemPath } });
    expect(linked.status, linked.stderr).toBe(0);
    expect(linked.stdout.trim()).toBe('bos-fleet 0.1.0');
  });

  it('npm run bos-fleet -- <command> runs the CLI', () => {
    const r = spawnSync('npm', ['run', '-s', 'bos-fleet', '--', '--version'], { cwd: root, encoding: 'utf8', env: { PATH: systemPath, HOME: process.env.HOME }, timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe('bos-fleet 0.1.0');
  });
});
