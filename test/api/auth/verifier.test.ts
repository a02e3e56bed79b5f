import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { callerFromClaims, createTokenVerifier } from '../../../api/auth/verifier.ts';
import { ConfigError } from '../../../runtime/config-loader.ts';
import { FleetError } from '../../../core/errors.ts';
import { testConfig, testKeys } from '../app/helpers.ts';

// The token verifier (no services needed) and the `bos-fleet token` command end to end.

const dir = mkdtempSync(join(tmpdir(), 'bosfleet-auth-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function failure(p: Promise<unknown>): Promise<FleetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FleetError);
  return err as FleetError;
}

describe('createTokenVerifier', () => {
  it('verifies ES256 from an inline PEM (with \\n escapes) and maps claims to the caller', async () => {
    const k = await testKeys('ES256');
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: k.publicPem.replaceAll('\n', '\\n') }));
    expect(
      await verify(
        await k.token({ tenant: 'acme', roles: ['operator', 'wizard', 'viewer'] }, { sub: 'svc-1' }),
      ),
    ).toEqual({ sub: 'svc-1', tenant: 'acme', roles: ['operator', 'viewer'] });
    expect(await verify(await k.token({ tenant: 'acme', roles: 'admin viewer' }))).toMatchObject({
      roles: ['admin', 'viewer'],
    });
  });

  it('verifies RS256 from AUTH_PUBLIC_KEY_FILE', async () => {
    const k = await testKeys('RS256');
    const file = join(dir, 'rsa.pub.pem');
    writeFileSync(file, k.publicPem);
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY_FILE: file }));
    expect(await verify(await k.token({ tenant: 'acme', roles: ['viewer'] }))).toMatchObject({
      tenant: 'acme',
    });
    const e = await failure(verify(await (await testKeys('RS256')).token()));
    expect(e).toMatchObject({ code: 'unauthenticated', details: { reason: 'signature' } });
  });

  it('maps every rejection to unauthenticated with a bounded reason', async () => {
    const k = await testKeys();
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: k.publicPem }));
    const now = Math.floor(Date.now() / 1_000);
    expect((await failure(verify(await k.token(undefined, { expS: now - 10 })))).details).toEqual({
      reason: 'expired',
    });
    expect((await failure(verify(await k.token(undefined, { aud: 'x' })))).message).toBe(
      "token audience does not match; expected aud 'bos-fleet'",
    );
    expect((await failure(verify(await k.token(undefined, { iss: 'x' })))).message).toBe(
      "token issuer does not match; expected iss 'bos-fleet'",
    );
    expect((await failure(verify('a.b.c'))).details).toEqual({ reason: 'malformed' });
    expect(
      (await failure(verify(await k.token({ tenant: 'bad tenant!', roles: ['viewer'] })))).message,
    ).toMatch(/claim 'tenant' is missing or invalid/);
  });

  it('refuses unusable configuration at start-up with what to do', () => {
    expect(() => createTokenVerifier(testConfig())).toThrow(ConfigError);
    expect(() => createTokenVerifier(testConfig())).toThrow(/bos-fleet token --generate-key/);
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = ec.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(() => createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: pem, AUTH_ALGORITHMS: 'RS256' }))).toThrow(
      /verifies only ES256/,
    );
    expect(() => createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: pem, AUTH_ALGORITHMS: 'HS256' }))).toThrow(
      /AUTH_ALGORITHMS=HS256/,
    );
    expect(() => createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY_FILE: join(dir, 'missing.pem') }))).toThrow(
      /cannot read the file \(ENOENT\)/,
    );
    const priv = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    expect(() => createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: 'not a key' }))).toThrow(
      /expected a PEM public key/,
    );
    expect(() => createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: priv }))).toThrow(
      /this is a private key; configure the public key/,
    );
  });

  it('AUTH_MODE=none needs no token', async () => {
    const verify = createTokenVerifier(
      testConfig({ AUTH_MODE: 'none', AUTH_NONE_TENANT: 'home', AUTH_NONE_ROLE: 'operator' }),
    );
    expect(await verify('')).toEqual({ sub: 'local', tenant: 'home', roles: ['operator'] });
  });

  it('callerFromClaims needs sub and tenant', () => {
    expect(() => callerFromClaims({ tenant: 'acme' })).toThrow(/'sub'/);
    expect(callerFromClaims({ sub: 's', tenant: 'acme' })).toEqual({ sub: 's', tenant: 'acme', roles: [] });
  });
});

describe('bos-fleet token', () => {
  const run = promisify(execFile);
  const cli = (...args: string[]) =>
    run(process.execPath, [join(import.meta.dirname, '../../../bin/bos-fleet.ts'), 'token', ...args], {
      env: { ...process.env, BOS_FLEET_CONFIG: '' },
    });

  it('generates a keypair and mints tokens the API verifies', async () => {
    const keys = join(dir, 'keys');
    const gen = await cli(
      '--generate-key',
      keys,
      '--sub',
      'alice',
      '--tenant',
      'acme',
      '--roles',
      'operator,viewer',
      '--ttl',
      '8h',
    );
    expect(gen.stderr).toMatch(/AUTH_PUBLIC_KEY_FILE=.*public\.pem/);
    expect(statSync(join(keys, 'private.pem')).mode & 0o777).toBe(0o600);
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY_FILE: join(keys, 'public.pem') }));
    expect(await verify(gen.stdout.trim())).toEqual({
      sub: 'alice',
      tenant: 'acme',
      roles: ['operator', 'viewer'],
    });
    const [, payload] = gen.stdout.trim().split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as {
      exp: number;
      iat: number;
      iss: string;
      aud: string;
    };
    expect(claims.exp - claims.iat).toBe(8 * 3_600);
    expect(claims).toMatchObject({ iss: 'bos-fleet', aud: 'bos-fleet' });

    const again = await cli(
      '--key',
      join(keys, 'private.pem'),
      '--sub',
      'bob',
      '--tenant',
      'acme',
      '--kid',
      'k1',
    );
    expect(await verify(again.stdout.trim())).toEqual({ sub: 'bob', tenant: 'acme', roles: ['viewer'] });
    expect(JSON.parse(Buffer.from(again.stdout.split('.')[0]!, 'base64url').toString())).toEqual({
      alg: 'ES256',
      typ: 'JWT',
      kid: 'k1',
    });
    expect(readFileSync(join(keys, 'public.pem'), 'utf8')).toMatch(/BEGIN PUBLIC KEY/);
  });

  it('RS256 keys sign RS256 tokens', async () => {
    const keys = join(dir, 'rsa');
    await cli('--generate-key', keys, '--key-type', 'rs256');
    const out = await cli(
      '--key',
      join(keys, 'private.pem'),
      '--sub',
      'c',
      '--tenant',
      'globex',
      '--roles',
      'admin',
    );
    expect(JSON.parse(Buffer.from(out.stdout.split('.')[0]!, 'base64url').toString()).alg).toBe('RS256');
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY_FILE: join(keys, 'public.pem') }));
    expect(await verify(out.stdout.trim())).toMatchObject({ tenant: 'globex', roles: ['admin'] });
  });

  it('explains usage errors with exit code 2', async () => {
    const keys = join(dir, 'keys2');
    await cli('--generate-key', keys);
    for (const [args, msg] of [
      [['--key', join(keys, 'private.pem'), '--tenant', 'acme'], /--sub is required/],
      [
        ['--key', join(keys, 'private.pem'), '--sub', 'a', '--tenant', 'acme', '--roles', 'root'],
        /--roles=root: expected a comma-separated list of viewer, operator, admin/,
      ],
      [
        ['--key', join(keys, 'private.pem'), '--sub', 'a', '--tenant', 'acme', '--ttl', 'forever'],
        /--ttl=forever: expected a duration/,
      ],
      [['--generate-key', keys], /exists; pass --force/],
      [['--key', join(keys, 'public.pem'), '--sub', 'a', '--tenant', 'acme'], /expected a PEM private key/],
      [['--sub', 'a'], /--key <private.pem> is required/],
    ] as const) {
      const err = (await cli(...args).then(
        () => null,
        (e: unknown) => e,
      )) as { code: number; stderr: string } | null;
      expect(err, args.join(' ')).not.toBeNull();
      expect(err!.code, args.join(' ')).toBe(2);
      expect(err!.stderr, args.join(' ')).toMatch(msg);
    }
  });
});
