import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../runtime/config-loader.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { CredentialPolicy } from '../../collector/inventory/credential-policy.ts';

// Instance-wide credentials are the operator's: a tenant uses them only where they are shared.
describe('credential policy', () => {
  it("lets a tenant use its own credentials, never another tenant's, and shared ones only where shared", () => {
    const none = new CredentialPolicy('');
    expect(none.mayUse('acme', 'acme:rack-1')).toBe(true);
    expect(none.mayUse('acme', 'beta:rack-1')).toBe(false);
    expect(none.mayUse('acme', 'default')).toBe(false);
    const some = new CredentialPolicy(' default@acme , site-b@* ');
    expect(some.mayUse('acme', 'default')).toBe(true);
    expect(some.mayUse('beta', 'default')).toBe(false);
    expect(some.mayUse('beta', 'site-b')).toBe(true);
  });

  it('MINER_SHARED_CREDENTIALS names what is wrong and what is expected', () => {
    expect(parseConfig(collectorConfigSchema, { MINER_SHARED_CREDENTIALS: 'default@acme,site-b@*' }).MINER_SHARED_CREDENTIALS).toBe(
      'default@acme,site-b@*',
    );
    expect(() => parseConfig(collectorConfigSchema, { MINER_SHARED_CREDENTIALS: 'default' })).toThrow(/MINER_SHARED_CREDENTIALS.*credentials@tenant/s);
  });
});
