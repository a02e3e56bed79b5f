import { z } from 'zod';

/**
 * What a control request asks a miner to do, as one discriminated union (`kind`). The same
 * shapes are used by the REST routes, the MCP tools, batch jobs (stored in the job's data) and
 * schedules. Inputs are strict objects: an unknown key is an error, never silently dropped.
 *
 * Pool passwords are accepted here and sent to the miners, but never echoed back, logged or
 * kept in a job's data in clear (see `redactRequest` and control-service.ts).
 */

export const MINER_ACTIONS = [
  'reboot',
  'restart',
  'pause',
  'resume',
  'stop',
  'start',
  'locate_on',
  'locate_off',
] as const;
export type MinerAction = (typeof MINER_ACTIONS)[number];

export const RELATIVE_REFERENCES = ['nominal', 'current', 'min', 'max'] as const;
export type RelativeReference = (typeof RELATIVE_REFERENCES)[number];

const oneOf = (obj: Record<string, unknown>, keys: readonly string[]): boolean =>
  keys.filter(k => obj[k] !== undefined).length === 1;

export const actionRequestSchema = z.strictObject({
  kind: z.literal('action'),
  action: z.enum(MINER_ACTIONS),
});

/** Absolute watts, a signed delta in watts, or a percentage of a reference (the miner's own min/max/nominal/current). */
export const powerTargetRequestSchema = z
  .strictObject({
    kind: z.literal('power_target'),
    watt: z.number().int().min(1).max(100_000).optional(),
    delta_w: z
      .number()
      .int()
      .min(-100_000)
      .max(100_000)
      .refine(v => v !== 0, { error: 'delta_w must not be 0' })
      .optional(),
    percent: z.number().gt(0).max(1_000).optional(),
    reference: z.enum(RELATIVE_REFERENCES).optional(),
  })
  .refine(r => oneOf(r, ['watt', 'delta_w', 'percent']), {
    error: 'give exactly one of watt, delta_w or percent',
  })
  .refine(r => (r.percent === undefined) === (r.reference === undefined), {
    error: 'percent and reference go together (reference: nominal, current, min or max)',
  });

/** Absolute TH/s, a signed delta in TH/s, or a percentage of a reference. */
export const hashrateTargetRequestSchema = z
  .strictObject({
    kind: z.literal('hashrate_target'),
    ths: z.number().gt(0).max(10_000).optional(),
    delta_ths: z
      .number()
      .min(-10_000)
      .max(10_000)
      .refine(v => v !== 0, { error: 'delta_ths must not be 0' })
      .optional(),
    percent: z.number().gt(0).max(1_000).optional(),
    reference: z.enum(RELATIVE_REFERENCES).optional(),
  })
  .refine(r => oneOf(r, ['ths', 'delta_ths', 'percent']), {
    error: 'give exactly one of ths, delta_ths or percent',
  })
  .refine(r => (r.percent === undefined) === (r.reference === undefined), {
    error: 'percent and reference go together (reference: nominal, current, min or max)',
  });

/**
 * The pool URL schemes bosminer connects with (Stratum V1 plain or over TLS, Stratum V2). Anything
 * looser (stratum://, stratum+tls://) is accepted by nothing on the miner and would only come
 * back as a miner_error after the change was sent.
 */
export const POOL_URL_SCHEMES = ['stratum+tcp', 'stratum+ssl', 'stratum2+tcp'] as const;

const poolUrl = z.string().regex(/^(stratum\+tcp|stratum\+ssl|stratum2\+tcp):\/\/[^\s/]+(:\d{1,5})?(\/\S*)?$/i, {
  error: `expected a pool URL with one of the schemes ${POOL_URL_SCHEMES.map(s => `${s}://`).join(', ')} such as stratum+tcp://pool.example.com:3333`,
});

export const poolInputSchema = z.strictObject({
  url: poolUrl,
  user: z.string().min(1).max(256),
  /** Sent to the miner; never returned or logged. */
  password: z.string().max(256).optional(),
  enabled: z.boolean().optional(),
});

export const poolGroupInputSchema = z
  .strictObject({
    /** Required when updating a group; must be omitted when replacing all groups. */
    uid: z.string().min(1).max(128).optional(),
    name: z.string().min(1).max(128),
    quota: z.number().int().min(1).max(1_000_000).optional(),
    fixed_share_ratio: z.number().gt(0).max(1).optional(),
    pools: z.array(poolInputSchema).min(1).max(16),
  })
  .refine(g => !(g.quota !== undefined && g.fixed_share_ratio !== undefined), {
    error: 'give quota or fixed_share_ratio, not both',
  });

export const poolsRequestSchema = z.discriminatedUnion('op', [
  z.strictObject({
    kind: z.literal('pools'),
    op: z.literal('replace'),
    groups: z
      .array(poolGroupInputSchema)
      .min(1)
      .max(8)
      .refine(gs => gs.every(g => g.uid === undefined), {
        error: 'uid must not be given when replacing all groups',
      }),
  }),
  z.strictObject({ kind: z.literal('pools'), op: z.literal('create'), group: poolGroupInputSchema }),
  z.strictObject({
    kind: z.literal('pools'),
    op: z.literal('update'),
    group: poolGroupInputSchema.refine(g => g.uid !== undefined, {
      error: 'uid of the group to update is required',
    }),
  }),
  z.strictObject({ kind: z.literal('pools'), op: z.literal('remove'), uid: z.string().min(1).max(128) }),
]);

const tempC = z.number().min(0).max(200);

export const coolingRequestSchema = z.discriminatedUnion('mode', [
  z
    .strictObject({
      kind: z.literal('cooling'),
      mode: z.literal('auto'),
      target_c: tempC,
      hot_c: tempC,
      dangerous_c: tempC,
      min_fan_speed_pct: z.number().int().min(0).max(100).optional(),
      max_fan_speed_pct: z.number().int().min(0).max(100).optional(),
      minimum_required_fans: z.number().int().min(0).max(16).optional(),
    })
    .refine(c => c.target_c < c.hot_c && c.hot_c < c.dangerous_c, {
      error: 'expected target_c < hot_c < dangerous_c',
    }),
  z.strictObject({
    kind: z.literal('cooling'),
    mode: z.literal('manual'),
    fan_speed_ratio: z.number().min(0).max(1),
    hot_c: tempC.optional(),
    dangerous_c: tempC.optional(),
    minimum_required_fans: z.number().int().min(0).max(16).optional(),
  }),
  z.strictObject({
    kind: z.literal('cooling'),
    mode: z.literal('immersion'),
    target_c: tempC.optional(),
    hot_c: tempC.optional(),
    dangerous_c: tempC.optional(),
  }),
]);

export const hashboardsRequestSchema = z.strictObject({
  kind: z.literal('hashboards'),
  enable: z.boolean(),
  hashboard_ids: z.array(z.string().min(1).max(32)).min(1).max(16),
});

/** Every request a caller can make. */
export const controlRequestSchema = z.union([
  actionRequestSchema,
  powerTargetRequestSchema,
  hashrateTargetRequestSchema,
  poolsRequestSchema,
  coolingRequestSchema,
  hashboardsRequestSchema,
]);

/**
 * The schema of one request kind: parsing with it names the field that is wrong ("target_c:
 * expected number"), where the union of every kind can only say "Invalid input".
 */
export function requestSchemaFor(input: unknown): z.ZodType<unknown> {
  const kind = input && typeof input === 'object' ? (input as { kind?: unknown }).kind : undefined;
  switch (kind) {
    case 'action':
      return actionRequestSchema;
    case 'power_target':
      return powerTargetRequestSchema;
    case 'hashrate_target':
      return hashrateTargetRequestSchema;
    case 'pools':
      return poolsRequestSchema;
    case 'cooling':
      return coolingRequestSchema;
    case 'hashboards':
      return hashboardsRequestSchema;
    default:
      return controlRequestSchema;
  }
}

export type ActionRequest = z.output<typeof actionRequestSchema>;
export type PowerTargetRequest = z.output<typeof powerTargetRequestSchema>;
export type HashrateTargetRequest = z.output<typeof hashrateTargetRequestSchema>;
export type PoolGroupInput = z.output<typeof poolGroupInputSchema>;
export type PoolsRequest = z.output<typeof poolsRequestSchema>;
export type CoolingRequest = z.output<typeof coolingRequestSchema>;
export type HashboardsRequest = z.output<typeof hashboardsRequestSchema>;

/**
 * Internal only (schedules): undo what an earlier batch did, miner by miner, from the memo that
 * batch wrote (previous power target, or "this miner was paused by us").
 */
export interface RestoreRequest {
  kind: 'restore';
  of: 'power_target' | 'pause' | 'stop';
  /** The window's memo reference (store.schedules.windowMemoRef): per miner, what the earlier batch changed. */
  memo_key: string;
}

export type ControlRequest =
  | ActionRequest
  | PowerTargetRequest
  | HashrateTargetRequest
  | PoolsRequest
  | CoolingRequest
  | HashboardsRequest
  | RestoreRequest;

/** A request kind that changes mining output or availability, for labels in events and job lists. */
export function describeRequest(r: ControlRequest): string {
  switch (r.kind) {
    case 'action':
      return r.action;
    case 'power_target':
      if (r.watt !== undefined) return `power target ${r.watt} W`;
      if (r.delta_w !== undefined) return `power target ${r.delta_w > 0 ? '+' : ''}${r.delta_w} W`;
      return `power target ${r.percent}% of ${r.reference}`;
    case 'hashrate_target':
      if (r.ths !== undefined) return `hashrate target ${r.ths} TH/s`;
      if (r.delta_ths !== undefined)
        return `hashrate target ${r.delta_ths > 0 ? '+' : ''}${r.delta_ths} TH/s`;
      return `hashrate target ${r.percent}% of ${r.reference}`;
    case 'pools':
      if (r.op === 'replace') return `pools: replace with ${r.groups.length} group(s)`;
      if (r.op === 'remove') return `pools: remove group ${r.uid}`;
      return `pools: ${r.op} group ${r.group.name}`;
    case 'cooling':
      return `cooling: ${r.mode}`;
    case 'hashboards':
      return `hashboards ${r.enable ? 'enable' : 'disable'} ${r.hashboard_ids.join(',')}`;
    case 'restore':
      return r.of === 'pause' ? 'resume (end of window)' : r.of === 'stop' ? 'start (end of window)' : 'restore power target (end of window)';
  }
}

/** A copy safe to return, log or store in clear: every pool password replaced by a marker. */
export function redactRequest<R extends ControlRequest>(r: R): R {
  if (r.kind !== 'pools') return r;
  const group = (g: PoolGroupInput): PoolGroupInput => ({
    ...g,
    pools: g.pools.map(p => (p.password === undefined ? p : { ...p, password: '[redacted]' })),
  });
  if (r.op === 'replace') return { ...r, groups: r.groups.map(group) };
  if (r.op === 'create' || r.op === 'update') return { ...r, group: group(r.group) };
  return r;
}

/** Pool passwords of a request in order (for sealing apart from the job's data). */
export function extractPoolSecrets(r: ControlRequest): (string | undefined)[] {
  if (r.kind !== 'pools' || r.op === 'remove') return [];
  const groups = r.op === 'replace' ? r.groups : [r.group];
  return groups.flatMap(g => g.pools.map(p => p.password));
}

/** Put passwords taken by `extractPoolSecrets` back into a redacted request. */
export function restorePoolSecrets<R extends ControlRequest>(r: R, secrets: (string | undefined)[]): R {
  if (r.kind !== 'pools' || r.op === 'remove') return r;
  let i = 0;
  const group = (g: PoolGroupInput): PoolGroupInput => ({
    ...g,
    pools: g.pools.map(p => {
      const pw = secrets[i++];
      const { password: _omit, ...rest } = p;
      return pw === undefined ? rest : { ...rest, password: pw };
    }),
  });
  if (r.op === 'replace') return { ...r, groups: r.groups.map(group) };
  return { ...r, group: group(r.group) };
}

/** Is this request something that writes state whose re-execution after a restart is harmless? */
export function isIdempotent(r: ControlRequest): boolean {
  if (r.kind === 'action') return r.action !== 'reboot' && r.action !== 'restart';
  // Deltas and "percent of current" compound when repeated.
  if (r.kind === 'power_target')
    return r.watt !== undefined || (r.percent !== undefined && r.reference !== 'current');
  if (r.kind === 'hashrate_target')
    return r.ths !== undefined || (r.percent !== undefined && r.reference !== 'current');
  if (r.kind === 'pools') return r.op !== 'create';
  return true;
}
