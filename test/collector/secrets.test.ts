import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CredentialStore } from '../../collector/credentials.ts';
import { SecretBox } from '../../collector/secret-box.ts';

describe('SecretBox (AES-256-GCM)', () => {
  const box = new SecretBox(randomBytes(32).toString('base64'));
  it('round-trips and never stores the plaintext', () => {
    const sealed = box.seal('s3cret-pass', 'credentials:a');
    expect(sealed).not.toContain('s3cret');
    expect(box.open(sealed, 'credentials:a')).toBe('s3cret-pass');
  });
  it('detects tampering, a wrong key and a swapped record', () => {
    const sealed = box.seal('x', 'credentials:a');
    expect(() => box.open(sealed, 'credentials:b')).toThrow(/cannot be decrypted/);
    expect(() => new SecretBox(randomBytes(32).toString('base64')).open(sealed, 'credentials:a')).toThrow(/BOSFLEET_SECRET_KEY/);
    const parts = sealed.split('.');
    parts[3] = Buffer.from('y').toString('base64');
    expect(() => box.open(parts.join('.'), 'credentials:a')).toThrow();
  });
  it('insists on a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16).toString('base64'))).toThrow(/32 bytes/);
  });
});

describe('CredentialStore', () => {
  it('reads passwords from env variables and secrets files, never from the inventory', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'creds-'));
    writeFileSync(join(dir, 'pw'), 'from-file\n');
    const store = new CredentialStore({ env: { SITE_A_PW: 'from-env' }, defaultPassword: 'dflt' });
    store.setFileRefs({ a: { username: 'root', password_env: 'SITE_A_PW' }, b: { username: 'admin', password_file: join(dir, 'pw') }, c: { username: 'x', password_env: 'MISSING_PW' } });
    expect(await store.resolve('a')).toEqual({ username: 'root', password: 'from-env' });
    expect(await store.resolve('b')).toEqual({ username: 'admin', password: 'from-file' });
    expect(await store.resolve('default')).toEqual({ username: 'root', password: 'dflt' });
    await expect(store.resolve('c')).rejects.toThrow(/MISSING_PW is not set/);
    await expect(store.resolve('nope')).rejects.toMatchObject({ code: 'not_found' });
    const listed = JSON.stringify(await store.list());
    expect(listed).not.toContain('from-env');
    expect(listed).not.toContain('from-file');
  });
});
