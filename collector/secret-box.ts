import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { FleetError } from '../core/errors.ts';

/**
 * AES-256-GCM for secrets at rest (miner passwords stored in Redis). Format:
 * `v1.<iv b64>.<tag b64>.<ciphertext b64>`; the key is BOSFLEET_SECRET_KEY (32 bytes, base64).
 */
export class SecretBox {
  private readonly key: Buffer;

  constructor(keyBase64: string) {
    const key = Buffer.from(keyBase64, 'base64');
    if (key.length !== 32) throw new FleetError('invalid_argument', 'BOSFLEET_SECRET_KEY must be 32 bytes in base64 (openssl rand -base64 32)');
    this.key = key;
  }

  seal(plaintext: string, associatedData = ''): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(associatedData));
    const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), ct.toString('base64')].join('.');
  }

  open(sealed: string, associatedData = ''): string {
    const [v, iv, tag, ct] = sealed.split('.');
    if (v !== 'v1' || !iv || !tag || ct === undefined) throw new FleetError('internal', 'stored secret has an unknown format');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(ct, 'base64')), decipher.final()]).toString('utf8');
    } catch (err) {
      throw new FleetError('internal', 'stored secret cannot be decrypted; was BOSFLEET_SECRET_KEY changed?', { cause: err });
    }
  }
}
