import { generateKeyPairSync } from 'node:crypto';
import { SignJWT, decodeJwt } from 'jose';
import { mintToken } from '../../../api/auth/keys.ts';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../../../api/auth/verifier.ts';
import { FleetError } from '../../../core/errors.ts';
import { testConfig, testKeys } from '../app/helpers.ts';

// Issue 15, security 5: a token without exp was accepted forever. Every token must expire, and
// no token may live longer than AUTH_TOKEN_MAX_LIFETIME_H. Real keys and signatures (jose).

async function refusal(p: Promise<unknown>): Promise<FleetError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FleetError);
  return err as FleetError;
}

describe('token lifetime', () => {
  it('a token without exp is refused, saying tokens must expire', async () => {
    const k = await testKeys('ES256');
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: k.publicPem }));
    const forever = await new SignJWT({ tenant: 'acme', roles: ['admin'] })
      .setProtectedHeader({ alg: 'ES256' })
      .setSubject('alice')
      .setIssuer('bos-fleet')
      .setAudience('bos-fleet')
      .setIssuedAt()
      .sign(k.privateKey);
    const err = await refusal(verify(forever));
    expect(err.code).toBe('unauthenticated');
    expect(err.message).toMatch(/exp/);
  });

  it('a token that lives longer than AUTH_TOKEN_MAX_LIFETIME_H is refused; one within it is accepted', async () => {
    const k = await testKeys('ES256');
    const verify = createTokenVerifier(
      testConfig({ AUTH_PUBLIC_KEY: k.publicPem, AUTH_TOKEN_MAX_LIFETIME_H: '24' }),
    );
    const now = Math.floor(Date.now() / 1_000);
    const long = await k.token({ tenant: 'acme', roles: ['viewer'] }, { expS: now + 30 * 86_400 });
    const err = await refusal(verify(long));
    expect(err.code).toBe('unauthenticated');
    expect(err.message).toMatch(/AUTH_TOKEN_MAX_LIFETIME_H/);
    const fine = await k.token({ tenant: 'acme', roles: ['viewer'] }, { expS: now + 8 * 3_600 });
    expect(await verify(fine)).toMatchObject({ tenant: 'acme' });
  });

  it('the default cap lets the longest token bos-fleet token mints (366d) through', async () => {
    const k = await testKeys('ES256');
    const verify = createTokenVerifier(testConfig({ AUTH_PUBLIC_KEY: k.publicPem }));
    const now = Math.floor(Date.now() / 1_000);
    const year = await k.token({ tenant: 'acme', roles: ['viewer'] }, { expS: now + 366 * 86_400 - 120 });
    expect(await verify(year)).toMatchObject({ tenant: 'acme' });
    const decade = await k.token({ tenant: 'acme', roles: ['viewer'] }, { expS: now + 3_650 * 86_400 });
    expect((await refusal(verify(decade))).code).toBe('unauthenticated');
  });

  it('mintToken (bos-fleet token, the demo) always sets exp, and its tokens pass the default cap', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    const token = await mintToken({
      privateKey,
      sub: 'alice',
      tenant: 'acme',
      roles: ['viewer'],
      ttlMs: 366 * 86_400_000,
      issuer: 'bos-fleet',
      audience: 'bos-fleet',
    });
    const claims = decodeJwt(token);
    expect(typeof claims.exp).toBe('number');
    expect(claims.exp! - claims.iat!).toBe(366 * 86_400);
    const verify = createTokenVerifier(
      testConfig({ AUTH_PUBLIC_KEY: publicKey.export({ type: 'spki', format: 'pem' }).toString() }),
    );
    expect(await verify(token)).toMatchObject({ tenant: 'acme' });
  });
});
