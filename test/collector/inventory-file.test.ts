import { describe, expect, it } from 'vitest';
import { expandCidr } from '../../collector/inventory/cidr-scan.ts';
import { parseInventory } from '../../collector/inventory/file-source.ts';

const doc = `
defaults: { tenant: acme, site: dc1 }
credentials:
  default: { username: root, password_env: MINER_PASSWORD }
sites:
  dc2: { tenant: beta, poll_interval_ms: 30000, credentials: dc2 }
miners:
  - { id: s19-01, address: 10.0.0.11, labels: { rack: r1 } }
  - { address: 10.0.0.12, port: 50052, site: dc2 }
  - { id: bad one, address: 10.0.0.13 }
  - { id: s19-04 }
  - { id: s19-01, address: 10.0.0.14 }
  - { id: s19-05, address: 10.0.0.15, colour: red }
scans:
  - { cidr: 10.0.1.0/30, site: dc2 }
  - { cidr: 10.0.1.0 }
`;

describe('inventory file', () => {
  const inv = parseInventory(doc, 'inv.yaml');

  it('resolves defaults, site settings and ids', () => {
    expect(inv.miners).toEqual([
      { id: 's19-01', host: '10.0.0.11', port: 50051, tenant: 'acme', site: 'dc1', credentials: 'default', labels: { rack: 'r1' }, source: 'file' },
      { id: '10.0.0.12:50052', host: '10.0.0.12', port: 50052, tenant: 'beta', site: 'dc2', credentials: 'dc2', labels: {}, source: 'file', poll_interval_ms: 30000 },
    ]);
    expect(inv.scans).toHaveLength(1);
    expect(inv.scans[0]).toMatchObject({ cidr: '10.0.1.0/30', tenant: 'beta', site: 'dc2', credentials: 'dc2', port: 50051 });
  });

  it('reports each malformed entry with its index and line, and keeps the rest', () => {
    const where = inv.problems.map(p => p.where);
    expect(where).toEqual(['miners[2] (line 10)', 'miners[3] (line 11)', 'miners[4] (line 12)', 'miners[5] (line 13)', 'scans[1] (line 16)']);
    expect(inv.problems[0]!.message).toMatch(/id: expected 1-128 characters/);
    expect(inv.problems[1]!.message).toMatch(/address/);
    expect(inv.problems[2]!.message).toBe("duplicate miner id 's19-01'");
    expect(inv.problems[3]!.message).toMatch(/colour/);
    expect(inv.problems[4]!.message).toMatch(/expected an IPv4 CIDR/);
  });

  it('rejects a document that is not an inventory at all', () => {
    expect(() => parseInventory('miners: 3', 'x.yaml')).toThrow(/x\.yaml: miners/);
    expect(() => parseInventory('{ miners: [', 'x.yaml')).toThrow(/not valid YAML/);
  });

  it('never carries a password', () => {
    expect(() => parseInventory('credentials:\n  default: { username: root, password: root }\n', 'x')).toThrow(/password/);
  });
});

describe('CIDR expansion', () => {
  it('lists host addresses without network and broadcast', () => {
    expect(expandCidr('10.0.1.0/30')).toEqual(['10.0.1.1', '10.0.1.2']);
    expect(expandCidr('192.168.5.77/24')).toHaveLength(254);
    expect(expandCidr('10.0.0.9/32')).toEqual(['10.0.0.9']);
  });
  it('refuses malformed or huge ranges', () => {
    expect(() => expandCidr('10.0.0.0/8')).toThrow(/between 16 and 32/);
    expect(() => expandCidr('10.0.300.0/24')).toThrow(/invalid CIDR/);
  });
});
