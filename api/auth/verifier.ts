import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { ConfigError } from '../../runtime/config-loader.ts';
import { FleetError } from '../../core/errors.ts';
import { scopeNameSchema } from '../../collector/inventory/schema.ts';
import type { ApiConfig } from '../config.ts';
import { ROLES, type Caller, type Role } from '../../services/context.ts';

/**
 * Bearer-token verification shared by REST and MCP over HTTP: a JWT signed with RS256/ES256
 * (AUTH_ALGORITHMS), checked against a JWKS URL (AUTH_JWKS_URL, keys fetched and cached by
 * jose) or a PEM public key (AUTH_PUBLIC_KEY inline, or AUTH_PUBLIC_KEY_FILE), with iss =
 * AUTH_ISSUER, aud = AUTH_AUDIENCE and exp/nbf enforced. Every token must carry exp, and none
 * may live longer than AUTH_TOKEN_MAX_LIFETIME_H (from iat, or from now without iat), so a leaked
 * token cannot be used forever. Claims become the Caller:
 *   sub     string, required
 *   tenant  string, required (letters, digits, . _ -; the tenant of the inventory)
 *   roles   array of viewer | operator | admin (a space-separated string is accepted too);
 *           unknown roles are ignored, none at all gives a caller that every route refuses (403).
 * Failures are FleetError('unauthenticated') with a bounded `details.reason`
 * (malformed | expired | signature | claims | key | algorithm); an unreachable JWKS endpoint is
 * FleetError('unavailable'). Verified tokens are cached until they expire (at most 5 minutes),
 * so a busy client costs one signature check per token, not per request.
 */
export type VerifyToken = (token: string) => Promise<Caller>;

export type AuthFailureReason =
  'missing' | 'malformed' | 'expired' | 'signature' | 'claims' | 'key' | 'algorithm';

export interface VerifierOptions {
  /** verified tokens kept (default 10,000) */
  cacheSize?: number;
  /** JWKS fetch timeout (default 5000 ms) */
  jwksTimeoutMs?: number;
}

const KNOWN_ALGS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
const CACHE_MAX_MS = 5 * 60_000;

const unauthenticated = (reason: AuthFailureReason, message: string): FleetError =>
  new FleetError('unauthenticated', message, { details: { reason } });

/** The caller with AUTH_MODE=none. */
export function noAuthCaller(config: Pick<ApiConfig, 'AUTH_NONE_TENANT' | 'AUTH_NONE_ROLE'>): Caller {
  return { sub: 'local', tenant: config.AUTH_NONE_TENANT, roles: [config.AUTH_NONE_ROLE] };
}

/** Algorithms a public key can verify. */
function algorithmsForKey(key: KeyObject): string[] {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'];
    case 'rsa-pss':
      return ['PS256', 'PS384', 'PS512'];
    case 'ec': {
      const curve = key.asymmetricKeyDetails?.namedCurve;
      return curve === 'prime256v1'
        ? ['ES256']
        : curve === 'secp384r1'
          ? ['ES384']
          : curve === 'secp521r1'
            ? ['ES512']
            : [];
    }
    case 'ed25519':
      return ['EdDSA'];
    default:
      return [];
  }
}

/** Read the PEM public key from AUTH_PUBLIC_KEY (inline, `\n` escapes allowed) or AUTH_PUBLIC_KEY_FILE. */
export function loadPublicKey(
  config: Pick<ApiConfig, 'AUTH_PUBLIC_KEY' | 'AUTH_PUBLIC_KEY_FILE'>,
): KeyObject {
  let pem: string;
  let where: string;
  if (config.AUTH_PUBLIC_KEY) {
    pem = config.AUTH_PUBLIC_KEY.replaceAll('\\n', '\n');
    where = 'AUTH_PUBLIC_KEY';
  } else if (config.AUTH_PUBLIC_KEY_FILE) {
    where = `AUTH_PUBLIC_KEY_FILE=${config.AUTH_PUBLIC_KEY_FILE}`;
    try {
      pem = readFileSync(config.AUTH_PUBLIC_KEY_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError([
        `${where}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      ]);
    }
  } else {
    throw new ConfigError(['AUTH_PUBLIC_KEY / AUTH_PUBLIC_KEY_FILE: not set']);
  }
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw new ConfigError([
      `${where}: this is a private key; configure the public key (public.pem from 'bos-fleet token --generate-key') and keep the private one off the API host`,
    ]);
  }
  try {
    const key = createPublicKey(pem);
    if (key.type !== 'public') throw new Error('not a public key');
    return key;
  } catch {
    throw new ConfigError([
      `${where}: expected a PEM public key (-----BEGIN PUBLIC KEY-----) or certificate; never configure the private key here`,
    ]);
  }
}

/** Build the verifier from configuration; configuration problems throw ConfigError at start-up. */
export function createTokenVerifier(config: ApiConfig, opts: VerifierOptions = {}): VerifyToken {
  if (config.AUTH_MODE === 'none') {
    const caller = noAuthCaller(config);
    return async () => caller;
  }
  const unknownAlgs = config.AUTH_ALGORITHMS.filter(a => !(KNOWN_ALGS as readonly string[]).includes(a));
  if (unknownAlgs.length > 0 || config.AUTH_ALGORITHMS.length === 0) {
    throw new ConfigError([
      `AUTH_ALGORITHMS=${config.AUTH_ALGORITHMS.join(',')}: expected a comma-separated list of ${KNOWN_ALGS.join(', ')}`,
    ]);
  }
  let key: JWTVerifyGetKey | KeyObject;
  let algorithms = [...config.AUTH_ALGORITHMS];
  if (config.AUTH_JWKS_URL) {
    key = createRemoteJWKSet(new URL(config.AUTH_JWKS_URL), {
      timeoutDuration: opts.jwksTimeoutMs ?? 5_000,
      cooldownDuration: 30_000,
      cacheMaxAge: 10 * 60_000,
    });
  } else if (config.AUTH_PUBLIC_KEY || config.AUTH_PUBLIC_KEY_FILE) {
    const pub = loadPublicKey(config);
    const usable = algorithmsForKey(pub);
    algorithms = algorithms.filter(a => usable.includes(a));
    if (algorithms.length === 0) {
      throw new ConfigError([
        `AUTH_ALGORITHMS=${config.AUTH_ALGORITHMS.join(',')}: the configured public key (${pub.asymmetricKeyType}) verifies only ${usable.join(', ') || 'no supported algorithm'}`,
      ]);
    }
    key = pub;
  } else {
    throw new ConfigError([
      'AUTH_MODE=jwt needs AUTH_JWKS_URL, AUTH_PUBLIC_KEY or AUTH_PUBLIC_KEY_FILE. To start without an identity provider: ' +
        "'bos-fleet token --generate-key ./keys' and set AUTH_PUBLIC_KEY_FILE=./keys/public.pem (or AUTH_MODE=none on a private loopback setup)",
    ]);
  }

  const cache = new Map<string, { caller: Caller; untilMs: number }>();
  const cacheSize = opts.cacheSize ?? 10_000;
  const verifyOptions = {
    issuer: config.AUTH_ISSUER,
    audience: config.AUTH_AUDIENCE,
    algorithms,
    requiredClaims: ['exp'],
  };
  const maxLifetimeMs = config.AUTH_TOKEN_MAX_LIFETIME_H * 3_600_000;

  return async (token: string): Promise<Caller> => {
    const now = Date.now();
    const hit = cache.get(token);
    if (hit) {
      if (hit.untilMs > now) return hit.caller;
      cache.delete(token);
    }
    let payload: JWTPayload;
    try {
      payload = (
        typeof key === 'function'
          ? await jwtVerify(token, key, verifyOptions)
          : await jwtVerify(token, key, verifyOptions)
      ).payload;
    } catch (err) {
      throw mapJoseError(err, config);
    }
    checkLifetime(payload, now, maxLifetimeMs, config.AUTH_TOKEN_MAX_LIFETIME_H);
    const caller = callerFromClaims(payload);
    const untilMs = Math.min((payload.exp as number) * 1_000, now + CACHE_MAX_MS);
    if (cache.size >= cacheSize) cache.delete(cache.keys().next().value as string);
    cache.set(token, { caller, untilMs });
    return caller;
  };
}

/** Refuse tokens that live longer than the configured maximum (counted from iat when it is in the past). */
function checkLifetime(payload: JWTPayload, nowMs: number, maxMs: number, maxH: number): void {
  const expMs = (payload.exp as number) * 1_000;
  const fromMs = typeof payload.iat === 'number' ? Math.min(payload.iat * 1_000, nowMs) : nowMs;
  if (expMs - fromMs > maxMs)
    throw unauthenticated(
      'claims',
      `token lifetime exceeds the ${maxH} h this server accepts (AUTH_TOKEN_MAX_LIFETIME_H); mint a shorter one (bos-fleet token --ttl)`,
    );
}

/** The Caller from verified claims (throws unauthenticated/claims when sub or tenant is unusable). */
export function callerFromClaims(payload: JWTPayload): Caller {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > 256)
    throw unauthenticated('claims', "token claim 'sub' is missing or not a string");
  const tenant = payload.tenant;
  if (typeof tenant !== 'string' || !scopeNameSchema.safeParse(tenant).success) {
    throw unauthenticated(
      'claims',
      "token claim 'tenant' is missing or invalid (expected 1-64 letters, digits, '.', '_' or '-')",
    );
  }
  const raw = payload.roles;
  const list = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/) : [];
  const roles = [
    ...new Set(
      list.filter((r): r is Role => typeof r === 'string' && (ROLES as readonly string[]).includes(r)),
    ),
  ];
  return { sub, tenant, roles };
}

function mapJoseError(err: unknown, config: ApiConfig): FleetError {
  const code = (err as { code?: unknown }).code;
  const claim = (err as { claim?: unknown }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return unauthenticated('expired', 'token expired; get a new one');
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (claim === 'aud')
        return unauthenticated(
          'claims',
          `token audience does not match; expected aud '${config.AUTH_AUDIENCE}'`,
        );
      if (claim === 'iss')
        return unauthenticated('claims', `token issuer does not match; expected iss '${config.AUTH_ISSUER}'`);
      if (claim === 'nbf') return unauthenticated('claims', 'token is not valid yet (nbf)');
      if (claim === 'exp')
        return unauthenticated(
          'claims',
          "token has no expiry (claim 'exp'); tokens must expire: mint one with bos-fleet token --ttl or set exp at the identity provider",
        );
      return unauthenticated('claims', `token claim '${String(claim)}' is invalid`);
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return unauthenticated('signature', 'token signature is invalid');
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return unauthenticated(
        'algorithm',
        `token algorithm not allowed; expected one of ${config.AUTH_ALGORITHMS.join(', ')}`,
      );
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return unauthenticated('key', "no signing key of the identity provider matches the token's kid");
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return new FleetError(
        'unavailable',
        'cannot load the signing keys (JWKS) of the identity provider; try again shortly',
        { cause: err },
      );
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return unauthenticated('malformed', 'token is not a valid JWT');
    default:
      if (err instanceof TypeError && /fetch/i.test(err.message)) {
        return new FleetError(
          'unavailable',
          'cannot load the signing keys (JWKS) of the identity provider; try again shortly',
          { cause: err },
        );
      }
      // Key/algorithm mismatches and anything else jose refuses: an invalid token, never a 500.
      return unauthenticated('signature', 'token cannot be verified with the configured keys');
  }
}
