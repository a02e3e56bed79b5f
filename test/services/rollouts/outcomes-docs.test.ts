import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ROLLOUT_OUTCOMES } from '../../../services/rollouts/outcomes.ts';

// The operator's guide explains every per-miner rollout outcome the job can report.
describe('docs/operations.md, Firmware rollouts', () => {
  it('has a row for each outcome, with its meaning and what to do next', () => {
    const doc = readFileSync(new URL('../../../docs/operations.md', import.meta.url), 'utf8');
    const start = doc.indexOf('## Firmware rollouts');
    expect(start).toBeGreaterThan(-1);
    const section = doc.slice(start, doc.indexOf('\n## ', start + 5));
    for (const o of ROLLOUT_OUTCOMES) {
      const row = section.split('\n').find(l => l.startsWith(`| \`${o}\` |`));
      expect(row, `outcome ${o} has a row`).toBeDefined();
      const cells = row!
        .split('|')
        .map(c => c.trim())
        .filter(Boolean);
      expect(cells.length, `outcome ${o}: meaning and next step`).toBe(3);
    }
  });
});
