import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  algForPrivateKey,
  generateKeyFiles,
  mintToken,
  parsePrivateKey,
  type SigningAlg,
} from '../../api/auth/keys.ts';
import { apiConfigSchema } from '../../api/config.ts';
import { ROLES, type Role } from '../../services/context.ts';
import { formatDuration, parseDuration } from '../../services/query/time.ts';
import { parseConfig, readRawConfig } from '../../runtime/config-loader.ts';
import { isFleetError } from '../../core/errors.ts';
import { scopeNameSchema } from '../../collector/inventory/schema.ts';
import { createRedis, redactRedisUrl } from '../../store/influx-redis/redis-connection.ts';
import { redisKeys } from '../../store/influx-redis/redis-keys.ts';
import { ConsoleSessions } from '../../console/sessions.ts';
import { RedisSessions } from '../../store/influx-redis/sessions.ts';
import { UsageError, type CliCommand } from '../command.ts';

const MAX_TTL_MS = 366 * 86_400_000;

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

export const tokenCommand: CliCommand = {
  name: 'token',
  summary:
    'Mint a JWT for the API from a local private key (self-hosted setups without an identity provider).',
  description: [
    'Start without an identity provider:',
    '  bos-fleet token --generate-key ./keys                      # writes keys/private.pem and keys/public.pem',
    '  AUTH_PUBLIC_KEY_FILE=./keys/public.pem bos-fleet api       # the API verifies with the public key',
    '  bos-fleet token --key ./keys/private.pem --sub alice --tenant acme --roles operator --ttl 8h',
    'The token is printed on stdout; send it as "Authorization: Bearer <token>". The algorithm follows',
    'the key: ES256 for an EC P-256 key, RS256 for an RSA key. iss and aud default to AUTH_ISSUER and',
    'AUTH_AUDIENCE of the API configuration, so the API accepts the token as is.',
    'Roles: viewer reads the fleet; operator also controls miners; admin also manages inventory,',
    'credentials and firmware images. Keep private.pem secret: whoever holds it can mint admin tokens.',
  ].join('\n'),
  options: {
    key: { type: 'string', description: 'PEM private key file to sign with.' },
    'generate-key': {
      type: 'string',
      description: 'Write a new keypair (private.pem, public.pem) into this directory.',
    },
    'key-type': {
      type: 'string',
      description: 'Key type for --generate-key: es256 or rs256.',
      default: 'es256',
    },
    force: { type: 'boolean', description: 'Let --generate-key replace existing key files.' },
    sub: { type: 'string', description: 'Subject: who the token is for (user or service name).' },
    tenant: { type: 'string', description: 'Tenant whose fleet the token may see.' },
    roles: {
      type: 'string',
      description: 'Comma-separated roles: viewer, operator, admin.',
      default: 'viewer',
    },
    ttl: { type: 'string', description: 'Lifetime, e.g. 15m, 8h, 30d (max 366d).', default: '1h' },
    kid: {
      type: 'string',
      description: 'Key id put in the token header (when the verifier has several keys).',
    },
    issuer: { type: 'string', description: 'iss claim (default: AUTH_ISSUER).' },
    'login-link': {
      type: 'boolean',
      description:
        'Also print a one-time web console login link for this token (on stderr; needs the API\'s REDIS_URL, REDIS_PREFIX and API_PUBLIC_URL). Valid 15 min, usable once.',
    },
    audience: { type: 'string', description: 'aud claim (default: AUTH_AUDIENCE).' },
  },
  async run(values) {
    try {
      return await run(values);
    } catch (err) {
      if (isFleetError(err)) throw new UsageError(err.message);
      throw err;
    }
  },
};

async function run(values: Record<string, string | boolean | string[] | undefined>): Promise<number> {
  const genDir = str(values['generate-key']);
  const keyFile = str(values.key);
  const sub = str(values.sub);
  const tenant = str(values.tenant);
  if (genDir && keyFile)
    throw new UsageError(
      'give either --key (sign with an existing key) or --generate-key (make a new one), not both',
    );
  if (!genDir && !keyFile)
    throw new UsageError(
      "--key <private.pem> is required (or --generate-key <dir> to create a keypair). Run 'bos-fleet token --help'.",
    );

  let privatePem: string;
  let where: string;
  if (genDir) {
    const type = String(values['key-type'] ?? 'es256').toUpperCase();
    if (type !== 'ES256' && type !== 'RS256')
      throw new UsageError(`--key-type=${String(values['key-type'])}: expected es256 or rs256`);
    const files = await generateKeyFiles(resolve(genDir), type as SigningAlg, values.force === true);
    process.stderr.write(
      `wrote ${files.privatePath} (private: keep it secret) and ${files.publicPath}\n` +
        `start the API with AUTH_PUBLIC_KEY_FILE=${files.publicPath}, then mint tokens with --key ${files.privatePath}\n`,
    );
    if (!sub && !tenant) return 0;
    privatePem = await readFile(files.privatePath, 'utf8');
    where = files.privatePath;
  } else {
    where = keyFile!;
    try {
      privatePem = await readFile(keyFile!, 'utf8');
    } catch (err) {
      throw new UsageError(
        `--key ${keyFile}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  }

  if (!sub) throw new UsageError('--sub is required: who the token is for, e.g. --sub alice');
  if (!tenant)
    throw new UsageError('--tenant is required: whose fleet the token may see, e.g. --tenant acme');
  if (!scopeNameSchema.safeParse(tenant).success)
    throw new UsageError(`--tenant=${tenant}: expected 1-64 letters, digits, '.', '_' or '-'`);
  const roles = String(values.roles ?? 'viewer')
    .split(',')
    .map(r => r.trim())
    .filter(Boolean);
  const badRoles = roles.filter(r => !(ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || badRoles.length > 0)
    throw new UsageError(
      `--roles=${String(values.roles)}: expected a comma-separated list of ${ROLES.join(', ')}`,
    );
  let ttlMs: number;
  try {
    ttlMs = parseDuration('ttl', String(values.ttl ?? '1h'));
  } catch {
    throw new UsageError(`--ttl=${String(values.ttl)}: expected a duration such as 15m, 8h or 30d`);
  }
  if (ttlMs > MAX_TTL_MS)
    throw new UsageError(`--ttl=${String(values.ttl)}: at most ${formatDuration(MAX_TTL_MS)}`);

  const privateKey = parsePrivateKey(privatePem, where);
  algForPrivateKey(privateKey); // refuses unsupported key types with a clear message
  const auth = parseConfig(apiConfigSchema.pick({ AUTH_ISSUER: true, AUTH_AUDIENCE: true }), readRawConfig());
  const token = await mintToken({
    privateKey,
    sub,
    tenant,
    roles: roles as Role[],
    ttlMs,
    issuer: str(values.issuer) ?? auth.AUTH_ISSUER,
    audience: str(values.audience) ?? auth.AUTH_AUDIENCE,
    kid: str(values.kid),
  });
  process.stdout.write(`${token}\n`);
  if (values['login-link'] === true) process.stderr.write(`web console (one-time login link, 15 min): ${await consoleLoginLink(token)}\n`);
  return 0;
}

/** Store a one-time code for `token` in the API's Redis; the link carries the code, not the token. */
async function consoleLoginLink(token: string): Promise<string> {
  const c = parseConfig(apiConfigSchema.pick({ REDIS_URL: true, REDIS_PREFIX: true, API_PUBLIC_URL: true, BOSFLEET_STORE: true, BOSFLEET_DATA_DIR: true }), readRawConfig());
  // The embedded store belongs to the running process (one process per data folder): it prints
  // its own link at start, and its login page takes the token itself.
  if (c.BOSFLEET_STORE === 'embedded')
    throw new UsageError(
      `--login-link needs the farm store (REDIS_URL); on the embedded store use the link 'bos-fleet start' printed, or paste this token on ${c.API_PUBLIC_URL.replace(/\/+$/, '')}/login`,
    );
  const redis = createRedis(c.REDIS_URL, { name: 'bosfleet-token', lazyConnect: true });
  try {
    await redis.connect().catch((err: unknown) => {
      throw new UsageError(`--login-link: cannot reach Redis at ${redactRedisUrl(c.REDIS_URL)} (${(err as Error).message}); set REDIS_URL to the API's Redis`);
    });
    const code = await new ConsoleSessions(new RedisSessions(redis, redisKeys(c.REDIS_PREFIX))).mintLoginCode(token);
    return `${c.API_PUBLIC_URL.replace(/\/+$/, '')}/login?code=${code}`;
  } finally {
    redis.disconnect();
  }
}
