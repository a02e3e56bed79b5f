import { readFile } from 'node:fs/promises';
import { FleetError } from '../core/errors.ts';
import type { CredentialRef } from './inventory/schema.ts';
import type { MinerCredentials } from './miner-client.ts';
import type { InventoryPort } from '../store/ports/inventory.ts';
import type { SecretBox } from './secret-box.ts';

/**
 * Resolves a credential name to a username and password. Sources, first match wins:
 * credentials added through the API (the store's inventory port, AES-GCM sealed), the inventory file's
 * `credentials` entries (password from an env variable or a secrets file), and `default`
 * from MINER_DEFAULT_USERNAME / MINER_DEFAULT_PASSWORD. Passwords are never logged or returned.
 */
export interface CredentialStoreOptions {
  env?: NodeJS.ProcessEnv;
  defaultUsername?: string;
  defaultPassword?: string;
  /** where API-managed credentials are kept, sealed with `box` */
  inventory?: InventoryPort;
  box?: SecretBox;
}

export class CredentialStore {
  private fileRefs = new Map<string, CredentialRef>();
  private readonly opts: CredentialStoreOptions;

  constructor(opts: CredentialStoreOptions = {}) {
    this.opts = opts;
  }

  setFileRefs(refs: Record<string, CredentialRef>): void {
    this.fileRefs = new Map(Object.entries(refs));
  }

  /** Names known without touching the store (file entries and `default`). */
  localNames(): string[] {
    return [...new Set(['default', ...this.fileRefs.keys()])];
  }

  async resolve(name: string): Promise<MinerCredentials> {
    const { inventory, box } = this.opts;
    if (inventory && box) {
      // The store down: file and default credentials still resolve.
      const sealed = await inventory.getSealedCredential(name).catch(() => null);
      if (sealed) {
        const parsed = JSON.parse(box.open(sealed, `credentials:${name}`)) as MinerCredentials;
        return { username: parsed.username, password: parsed.password };
      }
    }
    const ref = this.fileRefs.get(name);
    if (ref) {
      const env = this.opts.env ?? process.env;
      let password = '';
      if (ref.password_env) {
        const v = env[ref.password_env];
        if (v === undefined) throw new FleetError('precondition_failed', `credentials '${name}': environment variable ${ref.password_env} is not set`);
        password = v;
      } else if (ref.password_file) {
        try {
          password = (await readFile(ref.password_file, 'utf8')).replace(/\r?\n$/, '');
        } catch {
          throw new FleetError('precondition_failed', `credentials '${name}': cannot read password file ${ref.password_file}`);
        }
      }
      return { username: ref.username, password };
    }
    if (name === 'default') {
      return { username: this.opts.defaultUsername ?? 'root', password: this.opts.defaultPassword ?? 'root' };
    }
    throw new FleetError('not_found', `no credentials named '${name}'; define them in the inventory file or add them through the API`);
  }

  /** Store credentials sealed (API-managed). */
  async put(name: string, creds: MinerCredentials): Promise<void> {
    const { inventory, box } = this.opts;
    if (!inventory || !box) {
      throw new FleetError('precondition_failed', 'storing credentials needs the store and BOSFLEET_SECRET_KEY (32 bytes, base64)');
    }
    await inventory.putSealedCredential(name, box.seal(JSON.stringify(creds), `credentials:${name}`));
  }

  async remove(name: string): Promise<boolean> {
    const { inventory } = this.opts;
    if (!inventory) return false;
    return inventory.removeCredential(name);
  }

  /** Names with the username only; never the password. */
  async list(): Promise<{ name: string; username: string; source: 'api' | 'file' | 'env' }[]> {
    const out = new Map<string, { name: string; username: string; source: 'api' | 'file' | 'env' }>();
    out.set('default', { name: 'default', username: this.opts.defaultUsername ?? 'root', source: 'env' });
    for (const [name, ref] of this.fileRefs) out.set(name, { name, username: ref.username, source: 'file' });
    const { inventory, box } = this.opts;
    if (inventory && box) {
      for (const [name, sealed] of await inventory.listSealedCredentials()) {
        const { username } = JSON.parse(box.open(sealed, `credentials:${name}`)) as MinerCredentials;
        out.set(name, { name, username, source: 'api' });
      }
    }
    return [...out.values()];
  }
}
