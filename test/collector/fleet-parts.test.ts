import { describe, expect, it } from 'vitest';
import { emptyAggregate } from '../../core/fleet-aggregates.ts';
import { FleetParts } from '../../collector/fleet-parts.ts';

const part = (tenant: string, site: string | null, miners: number) => ({ ...emptyAggregate(tenant, site, 1), miners_total: miners });

describe('FleetParts', () => {
  it('writes an empty part for a tenant or site this collector no longer has miners of', () => {
    const parts = new FleetParts();
    expect(parts.complete([part('t', null, 3), part('t', 'a', 2), part('t', 'b', 1)], 10)).toHaveLength(3);
    // site b handed to another collector: its part here becomes empty, not its last (fresh) figures
    const next = parts.complete([part('t', null, 2), part('t', 'a', 2)], 20);
    expect(next).toHaveLength(3);
    expect(next.find(p => p.site === 'b')).toEqual(emptyAggregate('t', 'b', 20));
    // every miner of tenant u gone too, later: both its parts are emptied
    parts.complete([part('u', null, 1), part('u', 'x', 1), part('t', null, 2), part('t', 'a', 2)], 30);
    const last = parts.complete([part('t', null, 2), part('t', 'a', 2)], 40);
    expect(last.filter(p => p.tenant === 'u')).toEqual([emptyAggregate('u', null, 40), emptyAggregate('u', 'x', 40)]);
  });
});
