import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyFiles, mintToken, parsePrivateKey } from '../api/auth/keys.ts';
import type { Role } from '../services/context.ts';

/**
 * A signing key kept in a local folder (made on first start) for one-machine setups without an
 * identity provider: the API verifies with its public half, the command mints the tokens it prints.
 */
export interface LocalAuth {
  publicKeyFile: string;
  mint(o: { sub: string; tenant: string; roles: Role[]; ttlMs: number; issuer: string; audience: string }): Promise<string>;
}

export async function localAuth(keysDir: string): Promise<LocalAuth> {
  const privateFile = join(keysDir, 'private.pem');
  if (!existsSync(privateFile)) await generateKeyFiles(keysDir, 'ES256');
  return {
    publicKeyFile: join(keysDir, 'public.pem'),
    async mint(o) {
      const privateKey = parsePrivateKey(readFileSync(privateFile, 'utf8'), privateFile);
      return await mintToken({ privateKey, ...o });
    },
  };
}
