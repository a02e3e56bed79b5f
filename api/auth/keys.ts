import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { FleetError } from '../../core/errors.ts';
import type { Role } from '../../services/context.ts';

/**
 * Local signing keys and tokens for self-hosted setups without an identity provider
 * (`bos-fleet token`): a new ES256 (P-256) or RS256 (RSA 2048) keypair as PEM files, and
 * tokens with the claims the API verifies (sub, tenant, roles, iss, aud, iat, exp, jti).
 */
export type SigningAlg = 'ES256' | 'RS256';

export interface KeyFiles {
  privatePath: string;
  publicPath: string;
}

export async function generateKeyFiles(dir: string, alg: SigningAlg, force = false): Promise<KeyFiles> {
  const privatePath = join(dir, 'private.pem');
  const publicPath = join(dir, 'public.pem');
  for (const p of [privatePath, publicPath]) {
    if (!force && existsSync(p))
      throw new FleetError(
        'conflict',
        `${p} exists; pass --force to replace it (tokens signed with the old key stop working)`,
      );
  }
  const pair =
    alg === 'ES256'
      ? generateKeyPairSync('ec', {
          namedCurve: 'P-256',
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        })
      : generateKeyPairSync('rsa', {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
        });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(privatePath, pair.privateKey, { mode: 0o600 });
  await chmod(privatePath, 0o600);
  await writeFile(publicPath, pair.publicKey, { mode: 0o644 });
  return { privatePath, publicPath };
}

/** ES256 for a P-256 key, RS256 for RSA; anything else is refused. */
export function algForPrivateKey(key: KeyObject): SigningAlg {
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  throw new FleetError(
    'invalid_argument',
    `unsupported key type ${key.asymmetricKeyType ?? 'unknown'}; use an EC P-256 key (ES256) or an RSA key (RS256)`,
  );
}

export function parsePrivateKey(pem: string, where: string): KeyObject {
  try {
    const key = createPrivateKey(pem);
    if (key.type !== 'private') throw new Error('not private');
    return key;
  } catch {
    throw new FleetError(
      'invalid_argument',
      `${where}: expected a PEM private key (-----BEGIN PRIVATE KEY-----)`,
    );
  }
}

export interface MintOptions {
  privateKey: KeyObject;
  sub: string;
  tenant: string;
  roles: Role[];
  /** lifetime in ms */
  ttlMs: number;
  issuer: string;
  audience: string;
  kid?: string | undefined;
  /** seconds since epoch; default now */
  nowS?: number;
}

export async function mintToken(o: MintOptions): Promise<string> {
  const alg = algForPrivateKey(o.privateKey);
  const now = o.nowS ?? Math.floor(Date.now() / 1_000);
  return await new SignJWT({ tenant: o.tenant, roles: o.roles })
    .setProtectedHeader({ alg, typ: 'JWT', ...(o.kid ? { kid: o.kid } : {}) })
    .setSubject(o.sub)
    .setIssuer(o.issuer)
    .setAudience(o.audience)
    .setIssuedAt(now)
    .setExpirationTime(now + Math.max(1, Math.floor(o.ttlMs / 1_000)))
    .setJti(randomUUID())
    .sign(o.privateKey);
}
