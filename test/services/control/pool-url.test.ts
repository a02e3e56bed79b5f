import { describe, expect, it } from 'vitest';
import { controlRequestSchema } from '../../../services/control/requests.ts';

// Braiins OS takes stratum+tcp, stratum+ssl and stratum2+tcp pool URLs; anything else is
// accepted by a looser check and then fails on the miner as a miner_error. REST and MCP parse
// pools with the same schema (poolGroupInputSchema), so this covers both.
const pools = (url: string) =>
  controlRequestSchema.safeParse({ kind: 'pools', op: 'replace', groups: [{ name: 'g', pools: [{ url, user: 'u' }] }] });

describe('pool URL schemes', () => {
  it('accepts the schemes Braiins OS accepts', () => {
    for (const url of [
      'stratum+tcp://eu.stratum.braiins.com:3333',
      'stratum+ssl://eu.stratum.braiins.com:3334',
      'stratum2+tcp://v2.eu.stratum.braiins.com/9awtMD5KQgvRUh2yFbjVeT7b6hjipWcAsQHd6wEhgtDT9soosna',
    ])
      expect(pools(url).success, url).toBe(true);
  });

  it('rejects stratum+tls:// and stratum:// up front, naming the accepted schemes', () => {
    for (const url of ['stratum+tls://pool.example.com:3333', 'stratum://pool.example.com:3333', 'stratum2+tls://pool.example.com:3336']) {
      const r = pools(url);
      expect(r.success, url).toBe(false);
      const message = r.error!.issues.map(i => i.message).join('; ');
      expect(message).toContain('stratum+tcp');
      expect(message).toContain('stratum+ssl');
      expect(message).toContain('stratum2+tcp');
    }
  });
});
