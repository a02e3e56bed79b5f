import { z } from 'zod';

/**
 * Which credential names a tenant's miners may use. A tenant always may use its own
 * (stored as `<tenant>:<name>`, managed through the API). An instance-wide credential (`default`,
 * the inventory file's `credentials`) is the operator's: a tenant may use it only where the
 * operator says so in MINER_SHARED_CREDENTIALS. Miners of the inventory file are the operator's
 * own configuration and are not checked here.
 */
const GRANT = /^([A-Za-z0-9._-]{1,64})@(\*|[A-Za-z0-9._-]{1,64})$/;

/** `name@tenant` pairs separated by commas; `*` as the tenant shares with every tenant. */
export const sharedCredentialsSchema = z
  .string()
  .refine(v => v.trim() === '' || v.split(',').every(p => GRANT.test(p.trim())), {
    error: 'expected comma-separated credentials@tenant pairs, e.g. default@acme,site-b@* (* = every tenant)',
  })
  .default('');

export class CredentialPolicy {
  private readonly grants = new Map<string, Set<string>>();

  constructor(shared = '') {
    for (const pair of shared.split(',')) {
      const m = GRANT.exec(pair.trim());
      if (!m) continue;
      const tenants = this.grants.get(m[1]!) ?? new Set<string>();
      tenants.add(m[2]!);
      this.grants.set(m[1]!, tenants);
    }
  }

  /** Whether a miner of `tenant` may log in with the stored credential name `name`. */
  mayUse(tenant: string, name: string): boolean {
    if (name.startsWith(`${tenant}:`)) return true;
    const tenants = this.grants.get(name);
    return tenants !== undefined && (tenants.has('*') || tenants.has(tenant));
  }
}
