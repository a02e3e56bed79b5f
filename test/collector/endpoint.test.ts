import { describe, expect, it } from 'vitest';
import { canonicalHost, connectAddress, parseIpv4, parseIpv6, resolveHost } from '../../collector/inventory/endpoint.ts';

// Every spelling the system resolver accepts for one address has one canonical form, so two
// inventory entries for one endpoint compare equal whatever was typed.
describe('canonical endpoints', () => {
  it('reads every inet_aton form of an IPv4 address as its dotted quad', () => {
    for (const s of ['127.90.0.1', '127.90.1', '127.5898241', '2136604673', '0x7f5a0001', '0X7F5A0001', '0177.0132.0.01', '0x7f.0x5a.0.1', '127.90.0.1.', '127.90.00.001'])
      expect({ s, ip: parseIpv4(s) }).toEqual({ s, ip: '127.90.0.1' });
    for (const s of ['127.90.0.256', '4294967296', '127.90.0.1.1', '08.1.1.1', '1.2.3.4x', '', '..', '127.65536.1'])
      expect({ s, ip: parseIpv4(s) }).toEqual({ s, ip: null });
  });

  it('reads IPv6 in any form as RFC 5952, and IPv4-mapped as IPv4', () => {
    expect(parseIpv6('FD00:0000:0000:0000:0000:0000:0000:0011')).toBe('fd00::11');
    expect(parseIpv6('[fd00::0:11]')).toBe('fd00::11');
    expect(parseIpv6('fe80::1%eth0')).toBe('fe80::1');
    expect(parseIpv6('::ffff:127.90.0.1')).toBe('127.90.0.1');
    expect(parseIpv6('[::FFFF:7f5a:1]')).toBe('127.90.0.1');
    expect(parseIpv6('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(parseIpv6('fd00::g')).toBeNull();
  });

  it('lower-cases host names, drops the root dot, and refuses what is neither', () => {
    expect(canonicalHost('Miner-11.DC1.Example.')).toEqual({ host: 'miner-11.dc1.example', kind: 'name' });
    expect(canonicalHost('0177.0132.0.01')).toEqual({ host: '127.90.0.1', kind: 'ipv4' });
    expect(canonicalHost('::ffff:127.90.0.1')).toEqual({ host: '127.90.0.1', kind: 'ipv4' });
    expect(canonicalHost('[FD00::11]')).toEqual({ host: 'fd00::11', kind: 'ipv6' });
    for (const bad of ['0', '0.0.0.0', '::', '127.300.0.1', 'a..b', '-x.example', 'x_y.example'])
      expect(() => canonicalHost(bad), bad).toThrow(expect.objectContaining({ code: 'invalid_argument' }));
    expect(connectAddress('fd00::11', 50_051)).toBe('[fd00::11]:50051');
    expect(connectAddress('127.90.0.1', 50_051)).toBe('127.90.0.1:50051');
  });

  it('resolves names with the system resolver, within a deadline', async () => {
    expect(await resolveHost('0x7f000001')).toEqual(['127.0.0.1']);
    expect(await resolveHost('LOCALHOST.')).toContain('127.0.0.1');
    await expect(resolveHost('no-such-host.invalid')).rejects.toMatchObject({ code: 'unreachable' });
    const never = (): Promise<string[]> => new Promise(() => undefined);
    await expect(resolveHost('slow.example', { lookup: never, timeoutMs: 50 })).rejects.toMatchObject({
      code: 'unreachable',
      message: expect.stringContaining('50 ms'),
    });
    // what a resolver answers is canonicalised too (v4-mapped answers are the IPv4 address)
    expect(await resolveHost('mapped.example', { lookup: async () => ['::ffff:10.0.0.7', '10.0.0.7'] })).toEqual(['10.0.0.7']);
  });
});
