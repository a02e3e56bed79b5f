// Fault vocabulary of the simulator, its validation, the `--faults` mini-language and the
// deterministic choice of which miners get a fault.
import { z } from 'zod';

import { Rng, hash4 } from './random.ts';

export const FAULT_KINDS = [
  'unreachable',
  'slow',
  'intermittent',
  'auth_reject',
  'overheat',
  'hashboard_failure',
  'dead_pool',
  'low_hashrate',
  'reboot_loop',
  'upgrade_failure',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export const UPGRADE_FAILURE_MODES = ['never_returns', 'old_version', 'dead_hashboard', 'refuse_upload'] as const;
export type UpgradeFailureMode = (typeof UPGRADE_FAILURE_MODES)[number];

export const faultSchema = z.discriminatedUnion('kind', [
  /** Every address of the miner refuses connections (network cut; the miner keeps mining). */
  z.strictObject({ kind: z.literal('unreachable') }),
  /** Every response is delayed by delay_ms. */
  z.strictObject({ kind: z.literal('slow'), delay_ms: z.number().int().min(0).max(600_000).default(2_000) }),
  /** A fraction of calls fails with UNAVAILABLE. */
  z.strictObject({ kind: z.literal('intermittent'), failure_rate: z.number().min(0).max(1).default(0.3) }),
  /** Login always fails (UNAUTHENTICATED) and existing sessions are dropped. */
  z.strictObject({ kind: z.literal('auth_reject') }),
  /** Cooling cannot keep up: chips settle between the hot and dangerous thresholds, fans at 100 %. */
  z.strictObject({ kind: z.literal('overheat') }),
  /** One hashboard stops hashing (0 chips detected, 0 hashrate); board_index is 0-based. */
  z.strictObject({
    kind: z.literal('hashboard_failure'),
    board_index: z.number().int().min(0).max(15).optional(),
  }),
  /** All pools unreachable (alive=false): no shares, hashrate drops to 0. */
  z.strictObject({ kind: z.literal('dead_pool') }),
  /** Real hashrate settles at `ratio` of nominal (error hashrate makes up the rest). */
  z.strictObject({ kind: z.literal('low_hashrate'), ratio: z.number().min(0).max(1).default(0.7) }),
  /** The miner reboots every every_s seconds (counted from when it is back up). */
  z.strictObject({ kind: z.literal('reboot_loop'), every_s: z.number().min(1).max(86_400).default(60) }),
  /** Firmware upgrades fail this way, whatever the image says, until the fault is cleared. */
  z.strictObject({
    kind: z.literal('upgrade_failure'),
    mode: z.enum(UPGRADE_FAILURE_MODES).default('never_returns'),
  }),
]);

export type Fault = z.output<typeof faultSchema>;
export type FaultInput = z.input<typeof faultSchema>;

/** Validates a fault given as an object or a bare kind ('overheat'); throws a readable Error. */
export function parseFault(input: FaultInput | FaultKind | Record<string, unknown>): Fault {
  const obj = typeof input === 'string' ? { kind: input } : input;
  const result = faultSchema.safeParse(obj);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue?.path.length ? ` (${issue.path.join('.')})` : '';
    throw new Error(
      `invalid fault${where}: ${issue?.message ?? 'unknown error'}; kinds: ${FAULT_KINDS.join(', ')}`,
    );
  }
  return result.data;
}

export function isFaultKind(kind: string): kind is FaultKind {
  return (FAULT_KINDS as readonly string[]).includes(kind);
}

/** Fault from `kind` and the optional `=param` of the --faults syntax. */
function faultFromParam(kind: FaultKind, param: string | undefined): Fault {
  if (param === undefined || param === '') return parseFault(kind);
  const num = Number(param);
  switch (kind) {
    case 'slow':
      return parseFault({ kind, delay_ms: num });
    case 'intermittent':
      return parseFault({ kind, failure_rate: param.endsWith('%') ? Number(param.slice(0, -1)) / 100 : num });
    case 'hashboard_failure':
      return parseFault({ kind, board_index: num });
    case 'low_hashrate':
      return parseFault({ kind, ratio: param.endsWith('%') ? Number(param.slice(0, -1)) / 100 : num });
    case 'reboot_loop':
      return parseFault({ kind, every_s: num });
    case 'upgrade_failure':
      return parseFault({ kind, mode: param as UpgradeFailureMode });
    default:
      throw new Error(`fault '${kind}' takes no parameter (got '=${param}')`);
  }
}

/** One item of a --faults spec: which fault, and on how many / which miners. */
export interface FaultSpecItem {
  fault: Fault;
  /** Number of miners picked deterministically from the seed. */
  count?: number;
  /** Percentage of the fleet picked deterministically from the seed. */
  percent?: number;
  /** Explicit miner ids. */
  minerIds?: string[];
}

export const FAULT_SPEC_HELP = [
  'Fault spec: comma-separated items KIND[=PARAM][:COUNT | :PERCENT% | @ID[+ID...]].',
  'Without :COUNT or @ID one miner is affected. Miners for counts are picked deterministically',
  'from --seed, preferring miners that have no fault yet.',
  'Kinds and PARAM:',
  '  unreachable              connections refused (network cut, mining continues)',
  '  slow=MS                  responses delayed by MS milliseconds (default 2000)',
  '  intermittent=RATE        RATE (0-1 or N%) of calls fail with UNAVAILABLE (default 0.3)',
  '  auth_reject              Login always fails, sessions dropped',
  '  overheat                 chips climb between hot and dangerous thresholds, fans 100 %',
  '  hashboard_failure=IDX    board IDX (0-based, default picked from seed) stops hashing',
  '  dead_pool                all pools dead: no shares, hashrate drops to 0',
  '  low_hashrate=RATIO       real hashrate at RATIO of nominal (default 0.7)',
  '  reboot_loop=SECONDS      reboots every SECONDS once back up (default 60)',
  '  upgrade_failure=MODE     upgrades fail (until cleared): never_returns | old_version | dead_hashboard | refuse_upload',
  'Examples: overheat:2,unreachable:1,hashboard_failure:3   slow=5000:10%   overheat@sim-0003+sim-0007',
].join('\n');

const ITEM_PATTERN = /^([a-z_]+)(?:=([^:@]+))?(?::(\d+(?:\.\d+)?%?)|@(.+))?$/;

/** Parses a --faults spec (see FAULT_SPEC_HELP). Throws an Error naming the bad item. */
export function parseFaultSpec(spec: string): FaultSpecItem[] {
  const items: FaultSpecItem[] = [];
  for (const raw of spec.split(',')) {
    const text = raw.trim();
    if (!text) continue;
    const m = ITEM_PATTERN.exec(text);
    if (!m) throw new Error(`bad fault item '${text}'. ${FAULT_SPEC_HELP.split('\n')[0]}`);
    const [, kind = '', param, amount, ids] = m;
    if (!isFaultKind(kind))
      throw new Error(`unknown fault '${kind}' in '${text}'; kinds: ${FAULT_KINDS.join(', ')}`);
    let fault: Fault;
    try {
      fault = faultFromParam(kind, param);
    } catch (err) {
      throw new Error(`bad fault item '${text}': ${(err as Error).message}`, { cause: err });
    }
    if (ids !== undefined) {
      items.push({
        fault,
        minerIds: ids
          .split('+')
          .map(s => s.trim())
          .filter(Boolean),
      });
    } else if (amount?.endsWith('%')) {
      const percent = Number(amount.slice(0, -1));
      if (!(percent >= 0 && percent <= 100)) throw new Error(`bad percentage in '${text}'`);
      items.push({ fault, percent });
    } else {
      const count = amount === undefined ? 1 : Number(amount);
      if (!Number.isInteger(count) || count < 0) throw new Error(`bad count in '${text}'`);
      items.push({ fault, count });
    }
  }
  return items;
}

/**
 * Resolves spec items to miners: explicit ids as given (unknown ids throw), counts and
 * percentages picked from a seed-shuffled order, preferring miners without a fault so far.
 */
export function assignFaults(
  items: readonly FaultSpecItem[],
  minerIds: readonly string[],
  seed: number,
): Map<string, Fault[]> {
  const out = new Map<string, Fault[]>();
  const known = new Set(minerIds);
  const add = (id: string, fault: Fault): void => {
    const list = out.get(id) ?? [];
    if (!list.some(f => f.kind === fault.kind)) list.push(fault);
    out.set(id, list);
  };
  items.forEach((item, itemIndex) => {
    if (item.minerIds) {
      for (const id of item.minerIds) {
        if (!known.has(id)) throw new Error(`fault ${item.fault.kind}@${id}: no miner with id '${id}'`);
        add(id, item.fault);
      }
      return;
    }
    const wanted =
      item.percent !== undefined ? Math.round((minerIds.length * item.percent) / 100) : (item.count ?? 1);
    if (wanted > minerIds.length) {
      throw new Error(`fault ${item.fault.kind}:${wanted}: the fleet has only ${minerIds.length} miners`);
    }
    const order = new Rng(hash4(seed, 0xfa17, itemIndex)).shuffle([...minerIds]);
    const fresh = order.filter(id => !out.has(id));
    const reused = order.filter(id => out.has(id) && !out.get(id)?.some(f => f.kind === item.fault.kind));
    for (const id of [...fresh, ...reused].slice(0, wanted)) add(id, item.fault);
  });
  return out;
}

/** Short text form of a fault, e.g. "slow=2000" (the --faults syntax). */
export function describeFault(fault: Fault): string {
  switch (fault.kind) {
    case 'slow':
      return `slow=${fault.delay_ms}`;
    case 'intermittent':
      return `intermittent=${fault.failure_rate}`;
    case 'hashboard_failure':
      return fault.board_index === undefined ? 'hashboard_failure' : `hashboard_failure=${fault.board_index}`;
    case 'low_hashrate':
      return `low_hashrate=${fault.ratio}`;
    case 'reboot_loop':
      return `reboot_loop=${fault.every_s}`;
    case 'upgrade_failure':
      return `upgrade_failure=${fault.mode}`;
    default:
      return fault.kind;
  }
}
