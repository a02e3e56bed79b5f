import { describe, expect, it } from 'vitest';
import { FleetError } from '../../../core/errors.ts';
import { matchModels, resolveMinerRow, type MinerRefColumns } from '../../../services/query/miner-ref.ts';

// What users type for a miner or a model (issue 15, "filters and lookups accept what users type").
// Plain columns stand in for the miner table: the resolver reads only these.

const t: MinerRefColumns = {
  size: 4,
  id: ['dc1-01', 'dc1-02', 'dc2-01', 'dc2-02'],
  hostname: ['rig-a.lan', 'rig-b.lan', 'shared.lan', 'shared.lan'],
  address: ['10.0.0.1:50051', '10.0.0.2:50051', '10.0.1.1', '[fd00::5]:50051'],
  model: ['Antminer S21', 'Antminer S19j Pro', 'Antminer S21 Pro', null],
};

const caught = (f: () => unknown): FleetError => {
  try {
    f();
  } catch (err) {
    if (err instanceof FleetError) return err;
    throw err;
  }
  throw new Error('expected a FleetError');
};

describe('resolveMinerRow', () => {
  it('accepts an id, a hostname or an address, case-insensitively', () => {
    expect(resolveMinerRow(t, 'miner', 'dc1-02')).toBe(1);
    expect(resolveMinerRow(t, 'miner', 'DC1-02')).toBe(1);
    expect(resolveMinerRow(t, 'miner', 'RIG-A.lan')).toBe(0);
    expect(resolveMinerRow(t, 'miner', 'rig-a')).toBe(0);
    expect(resolveMinerRow(t, 'miner', '10.0.0.2')).toBe(1);
    expect(resolveMinerRow(t, 'miner', '10.0.0.2:50051')).toBe(1);
    expect(resolveMinerRow(t, 'miner', '10.0.1.1')).toBe(2);
    expect(resolveMinerRow(t, 'miner', 'FD00::5')).toBe(3);
  });

  it('refuses a hostname two miners share, naming both, instead of picking one', () => {
    const e = caught(() => resolveMinerRow(t, 'miner', 'shared.lan'));
    expect(e.code).toBe('invalid_argument');
    expect(e.message).toMatch(/miner: 'shared\.lan' names 2 miners: dc2-01 .*dc2-02/);
    expect(e.details).toMatchObject({ field: 'miner', candidates: ['dc2-01', 'dc2-02'] });
  });

  it('an unknown value is not found with close matches', () => {
    const e = caught(() => resolveMinerRow(t, 'id', 'dc1-03'));
    expect(e.code).toBe('not_found');
    expect(e.message).toMatch(/unknown miner 'dc1-03'; did you mean 'dc1-01' \(rig-a\.lan\), 'dc1-02' \(rig-b\.lan\)/);
    expect(e.details).toMatchObject({ miner: 'dc1-03' });
  });
});

describe('matchModels', () => {
  it('accepts the model key or the full name in any case', () => {
    expect(matchModels(t, 's21')).toEqual(['Antminer S21']);
    expect(matchModels(t, 'S21')).toEqual(['Antminer S21']);
    expect(matchModels(t, 'antminer s21')).toEqual(['Antminer S21']);
    expect(matchModels(t, 'Antminer S21')).toEqual(['Antminer S21']);
    expect(matchModels(t, 's19j-pro')).toEqual(['Antminer S19j Pro']);
    expect(matchModels(t, 'S19j Pro')).toEqual(['Antminer S19j Pro']);
  });

  it('an unknown model matches nothing', () => {
    expect(matchModels(t, 's2')).toEqual([]);
  });
});
