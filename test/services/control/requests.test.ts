import { describe, expect, it } from 'vitest';
import { forEachLimit, notStartedOf } from '../../../services/control/concurrency.ts';
import {
  controlRequestSchema,
  extractPoolSecrets,
  isIdempotent,
  redactRequest,
  restorePoolSecrets,
  type ControlRequest,
} from '../../../services/control/requests.ts';
import { minerSelectorSchema } from '../../../services/control/selector.ts';

describe('control requests', () => {
  it('accepts exactly one way to give a power target', () => {
    expect(controlRequestSchema.safeParse({ kind: 'power_target', watt: 3000 }).success).toBe(true);
    expect(
      controlRequestSchema.safeParse({ kind: 'power_target', percent: 90, reference: 'nominal' }).success,
    ).toBe(true);
    expect(controlRequestSchema.safeParse({ kind: 'power_target', watt: 3000, delta_w: -100 }).success).toBe(
      false,
    );
    expect(controlRequestSchema.safeParse({ kind: 'power_target', percent: 90 }).success).toBe(false);
    expect(controlRequestSchema.safeParse({ kind: 'power_target', watt: 3000, extra: 1 }).success).toBe(
      false,
    );
  });

  it('checks cooling temperatures are ordered and pools are stratum URLs', () => {
    expect(
      controlRequestSchema.safeParse({
        kind: 'cooling',
        mode: 'auto',
        target_c: 70,
        hot_c: 90,
        dangerous_c: 100,
      }).success,
    ).toBe(true);
    expect(
      controlRequestSchema.safeParse({
        kind: 'cooling',
        mode: 'auto',
        target_c: 95,
        hot_c: 90,
        dangerous_c: 100,
      }).success,
    ).toBe(false);
    expect(
      controlRequestSchema.safeParse({
        kind: 'pools',
        op: 'replace',
        groups: [{ name: 'g', pools: [{ url: 'http://x', user: 'u' }] }],
      }).success,
    ).toBe(false);
  });

  it('redacts pool passwords and puts them back', () => {
    const r = controlRequestSchema.parse({
      kind: 'pools',
      op: 'replace',
      groups: [
        {
          name: 'g',
          pools: [
            { url: 'stratum+tcp://a:3333', user: 'u', password: 'p1' },
            { url: 'stratum+tcp://b:3333', user: 'u' },
          ],
        },
      ],
    }) as ControlRequest;
    const secrets = extractPoolSecrets(r);
    expect(secrets).toEqual(['p1', undefined]);
    const red = redactRequest(r);
    expect(JSON.stringify(red)).not.toContain('p1');
    expect(restorePoolSecrets(red, secrets)).toEqual(r);
  });

  it('knows which requests may be repeated after a restart', () => {
    expect(isIdempotent({ kind: 'action', action: 'pause' })).toBe(true);
    expect(isIdempotent({ kind: 'action', action: 'reboot' })).toBe(false);
    expect(isIdempotent({ kind: 'power_target', watt: 3000 })).toBe(true);
    expect(isIdempotent({ kind: 'power_target', delta_w: 100 })).toBe(false);
    expect(isIdempotent({ kind: 'power_target', percent: 90, reference: 'current' })).toBe(false);
  });

  it('refuses an empty selector', () => {
    expect(minerSelectorSchema.safeParse({}).success).toBe(false);
    expect(minerSelectorSchema.safeParse({ labels: {} }).success).toBe(false);
    expect(minerSelectorSchema.safeParse({ all: true }).success).toBe(true);
    expect(minerSelectorSchema.safeParse({ site: 'dc1', rack: 'r1' }).success).toBe(false);
  });
});

describe('forEachLimit', () => {
  it('keeps at most `limit` in flight and reports what a failing checkpoint left unstarted', async () => {
    let inFlight = 0;
    let max = 0;
    const seen: number[] = [];
    await forEachLimit([1, 2, 3, 4, 5, 6], 2, async n => {
      inFlight++;
      max = Math.max(max, inFlight);
      await new Promise(r => setTimeout(r, 5));
      seen.push(n);
      inFlight--;
    });
    expect(max).toBe(2);
    expect(seen.sort()).toEqual([1, 2, 3, 4, 5, 6]);
    let calls = 0;
    const err = await forEachLimit(
      [1, 2, 3, 4, 5],
      1,
      async () => undefined,
      async () => {
        if (++calls > 2) throw new Error('stop');
      },
    ).catch(e => e as Error);
    expect(err).toBeInstanceOf(Error);
    expect(notStartedOf(err)).toEqual([2, 3, 4]);
  });
});
