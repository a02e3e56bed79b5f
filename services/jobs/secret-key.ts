import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { FleetError } from '../../core/errors.ts';
import { SecretBox } from '../../collector/secret-box.ts';

/**
 * The key that seals secrets a job keeps in Redis (pool passwords): BOSFLEET_SECRET_KEY when set,
 * else a key this instance generates once and keeps in BOSFLEET_SECRET_KEY_FILE (mode 0600), so
 * Redis never holds a password in clear text. Replicas that share jobs need the same key: set
 * BOSFLEET_SECRET_KEY, or give them the same file.
 */
export function secretBoxFor(config: { BOSFLEET_SECRET_KEY?: string | undefined; BOSFLEET_SECRET_KEY_FILE: string }): SecretBox {
  if (config.BOSFLEET_SECRET_KEY) return new SecretBox(config.BOSFLEET_SECRET_KEY);
  const path = config.BOSFLEET_SECRET_KEY_FILE;
  try {
    return new SecretBox(readFileSync(path, 'utf8').trim());
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw keyFileError(path, err);
  }
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    // 'wx': two processes starting at once keep one key (the loser reads the winner's).
    writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw keyFileError(path, err);
  }
  try {
    return new SecretBox(readFileSync(path, 'utf8').trim());
  } catch (err) {
    throw keyFileError(path, err);
  }
}

function keyFileError(path: string, err: unknown): FleetError {
  return new FleetError(
    'unavailable',
    `cannot use the secret key file BOSFLEET_SECRET_KEY_FILE=${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); jobs with pool passwords are refused until it is readable or BOSFLEET_SECRET_KEY is set`,
    { cause: err },
  );
}
