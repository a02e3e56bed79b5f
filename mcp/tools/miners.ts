/**
 * One miner or a list of them. list_miners and get_miner read stored data (snapshots);
 * get_miner_config, ping_miner, get_miner_logs and diagnose_miner also talk to the miner
 * live through the shared miner client pool, with short deadlines, and report an unreachable
 * miner as data rather than as an error where that is the answer (ping, diagnose).
 */
import { z } from 'zod';
import { FleetError, isFleetError } from '../../core/errors.ts';
import type { MinerClient } from '../../collector/miner-client.ts';
import { stripPoolCredentials } from '../../collector/normalize.ts';
import { DEGRADED_REASONS, HEALTH_STATUSES } from '../../core/samples.ts';
import { MinerStateReader } from '../../services/control/miner-state.ts';
import type { TargetMiner } from '../../services/control/index.ts';
import { TagFilter } from '../../api/schemas/common.ts';
import { MINER_SORT_KEYS, type MinerDetail } from '../../api/schemas/miners.ts';
import { iso } from '../../services/query/time.ts';
import { defineTool, type ToolContext } from '../define-tool.ts';
import { ListFields, budgetFor, clip, fitList, limitArg } from '../size-budget.ts';
import { MinerArg, SiteArg } from './shared.ts';

/** The resolved inventory entry and a pooled client for live calls. */
export async function liveClient(ctx: ToolContext, id: string): Promise<{ miner: TargetMiner; client: MinerClient }> {
  const miner = await ctx.deps.plane.control.resolver.one(ctx.caller, id);
  const client = ctx.deps.infra.minerPool.get({
    id: miner.id,
    host: miner.host,
    port: miner.port,
    credentials: miner.credentials,
  });
  return { miner, client };
}

const hostnameOf = (m: TargetMiner): string | null =>
  m.snapshot?.sample?.hostname || m.snapshot?.details?.hostname || null;

// ---- list_miners -------------------------------------------------------------------------------

const MinerRow = z.object({
  id: z.string(),
  hostname: z.string().nullable(),
  site: z.string(),
  model: z.string().nullable(),
  status: z.enum(HEALTH_STATUSES),
  degraded_reasons: z.array(z.enum(DEGRADED_REASONS)),
  hashrate_ths: z.number().nullable().describe('null while offline.'),
  pct_nominal: z.number().nullable(),
  power_w: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  temp_chip_max_c: z.number().nullable(),
  last_seen: z.string().nullable(),
});

const MinerListOut = z.object({
  items: z.array(MinerRow),
  ...ListFields,
  next_cursor: z.string().nullable().describe('Pass as cursor for the next page; null on the last page.'),
});

export const listMiners = defineTool({
  name: 'list_miners',
  title: 'List miners',
  description:
    'Find miners by status, site, model, label, firmware or free text (id, hostname, IP), sorted by id, hashrate, pct_nominal, temperature, efficiency, power or last_seen; returns a page of compact rows with the total.',
  access: 'read',
  category: 'miners',
  input: z.strictObject({
    status: z.enum(HEALTH_STATUSES).optional().describe('Only miners in this health status.'),
    site: SiteArg.optional(),
    model: TagFilter.optional().describe('Model name or key (s21).'),
    label: z
      .array(z.string().regex(/^[^=]{1,64}=[^=]{0,256}$/, { error: 'expected key=value such as rack=r1' }))
      .max(16)
      .optional()
      .describe('Inventory labels as key=value, all must match, e.g. ["rack=r01"].'),
    firmware: TagFilter.optional().describe('Part of the firmware version.'),
    q: TagFilter.optional().describe('Part of the id, hostname or IP address.'),
    sort: z.enum(MINER_SORT_KEYS).optional().describe('Sort key (default id).'),
    order: z.enum(['asc', 'desc']).optional().describe('Default asc for id, desc otherwise.'),
    limit: limitArg(10, 100, 'miners'),
    cursor: z.string().max(512).optional().describe('next_cursor of the previous answer, unchanged.'),
  }),
  output: MinerListOut,
  async run(args, ctx) {
    const limit = args.limit ?? 10;
    const r = await ctx.deps.fleetQuery.listMiners(ctx.caller, {
      status: args.status,
      site: args.site,
      model: args.model,
      label: args.label,
      firmware: args.firmware,
      q: args.q,
      sort: args.sort,
      order: args.order,
      limit,
      cursor: args.cursor,
    });
    const rows = r.items.map(m => ({
      id: m.id,
      hostname: m.hostname,
      site: m.site,
      model: m.model,
      status: m.status,
      degraded_reasons: m.degraded_reasons,
      hashrate_ths: m.hashrate_ths,
      pct_nominal: m.pct_nominal,
      power_w: m.power_w,
      efficiency_jth: m.efficiency_jth,
      temp_chip_max_c: m.temp_chip_max_c,
      last_seen: m.last_seen,
    }));
    const make = (n: number) => {
      const cut = n < rows.length;
      const structured: z.output<typeof MinerListOut> = {
        items: rows.slice(0, n),
        total: r.total,
        limit,
        truncated: r.truncated || cut,
        // A byte cut keeps the service's cursor only when nothing was dropped.
        next_cursor: cut ? null : r.next_cursor,
      };
      if (cut) structured.hint = 'the rows did not fit the answer size: lower limit and page with cursor';
      else if (r.hint) structured.hint = r.hint.replace('pass next_cursor', 'pass next_cursor as cursor');
      const byStatus = rows.reduce<Record<string, number>>((a, m) => ((a[m.status] = (a[m.status] ?? 0) + 1), a), {});
      const summary =
        r.total === 0
          ? `No miner matches${r.hint ? `: ${r.hint}` : ''}.`
          : `${r.total} miner(s) match; showing ${n} (${Object.entries(byStatus)
              .map(([k, v]) => `${v} ${k}`)
              .join(', ')}): ${rows
              .slice(0, Math.min(n, 5))
              .map(m => `${m.id}${m.hostname ? ` (${m.hostname})` : ''} ${m.status}${m.hashrate_ths !== null ? ` ${m.hashrate_ths} TH/s` : ''}`)
              .join('; ')}${n > 5 ? '; …' : ''}.`;
      return { structured, summary };
    };
    return fitList(rows.length, make, budgetFor(args.limit)).answer;
  },
});

// ---- get_miner ---------------------------------------------------------------------------------

const MinerView = z.object({
  id: z.string(),
  hostname: z.string().nullable(),
  site: z.string(),
  address: z.string().describe('host:port of the miner API.'),
  model: z.string().nullable(),
  firmware: z.string().nullable(),
  status: z.enum(HEALTH_STATUSES),
  degraded_reasons: z.array(z.enum(DEGRADED_REASONS)),
  miner_status: z.string().nullable().describe("The miner's own state: normal, paused, not_started …"),
  tuner_state: z.string().nullable(),
  last_seen: z.string().nullable(),
  stale: z.boolean().describe('Not reached for more than 3 poll intervals (or never).'),
  last_error: z.string().nullable(),
  uptime_s: z.number().nullable(),
  hashrate_ths: z.number().nullable(),
  hashrate_nominal_ths: z.number().nullable(),
  pct_nominal: z.number().nullable(),
  power_w: z.number().nullable(),
  power_target_w: z.number().nullable(),
  efficiency_jth: z.number().nullable(),
  temp_chip_max_c: z.number().nullable(),
  temp_board_max_c: z.number().nullable(),
  fan_rpm_min: z.number().nullable(),
  boards_hashing: z.number().nullable(),
  boards_total: z.number().nullable(),
  active_pool: z.string().nullable().describe('URL of the pool it mines on now.'),
  view: z.enum(['concise', 'detailed']),
  labels: z.record(z.string(), z.string()).optional(),
  shares: z.object({ accepted: z.number(), rejected: z.number(), stale: z.number() }).nullable().optional(),
  boards: z
    .array(
      z.object({
        board: z.string(),
        enabled: z.boolean(),
        hashrate_ths: z.number(),
        hashrate_nominal_ths: z.number(),
        pct_nominal: z.number().nullable(),
        temp_chip_c: z.number().nullable(),
        temp_board_c: z.number().nullable(),
        voltage_v: z.number().nullable(),
        frequency_mhz: z.number().nullable(),
        chips: z.number().nullable(),
      }),
    )
    .optional(),
  fans: z.array(z.object({ fan: z.string(), rpm: z.number(), pwm_pct: z.number().nullable() })).optional(),
  pools: z
    .array(
      z.object({
        group: z.string(),
        url: z.string(),
        user: z.string(),
        enabled: z.boolean(),
        active: z.boolean(),
        alive: z.boolean(),
        accepted: z.number(),
        rejected: z.number(),
        stale: z.number(),
      }),
    )
    .optional(),
  details: z
    .object({
      uid: z.string(),
      serial: z.string().nullable(),
      mac: z.string().nullable(),
      platform: z.string(),
      api_version: z.string().nullable(),
      sticker_hashrate_ths: z.number().nullable(),
    })
    .nullable()
    .optional(),
});
type MinerView = z.output<typeof MinerView>;

export function minerView(d: MinerDetail, view: 'concise' | 'detailed'): MinerView {
  const active = d.pools.find(p => p.active) ?? null;
  const out: MinerView = {
    id: d.id,
    hostname: d.hostname,
    site: d.site,
    address: d.address,
    model: d.model,
    firmware: d.firmware,
    status: d.status,
    degraded_reasons: d.degraded_reasons,
    miner_status: d.miner_status,
    tuner_state: d.tuner_state,
    last_seen: d.last_seen,
    stale: d.stale,
    last_error: d.last_error,
    uptime_s: d.uptime_s,
    hashrate_ths: d.hashrate_ths,
    hashrate_nominal_ths: d.hashrate_nominal_ths,
    pct_nominal: d.pct_nominal,
    power_w: d.power_w,
    power_target_w: d.power_target_w,
    efficiency_jth: d.efficiency_jth,
    temp_chip_max_c: d.temp_chip_max_c,
    temp_board_max_c: d.temp_board_max_c,
    fan_rpm_min: d.fan_rpm_min,
    boards_hashing: d.boards_hashing,
    boards_total: d.boards_total,
    active_pool: active?.url ?? null,
    view,
  };
  if (view === 'concise') return out;
  return {
    ...out,
    labels: d.labels,
    shares: d.shares,
    boards: d.boards.map(b => ({
      board: b.board,
      enabled: b.enabled,
      hashrate_ths: b.hashrate_ths,
      hashrate_nominal_ths: b.hashrate_nominal_ths,
      pct_nominal: b.pct_nominal,
      temp_chip_c: b.temp_chip_c,
      temp_board_c: b.temp_board_c,
      voltage_v: b.voltage_v,
      frequency_mhz: b.frequency_mhz,
      chips: b.chips,
    })),
    fans: d.fans,
    pools: d.pools.slice(0, 24),
    details: d.details
      ? {
          uid: d.details.uid,
          serial: d.details.serial,
          mac: d.details.mac,
          platform: d.details.platform,
          api_version: d.details.api_version,
          sticker_hashrate_ths: d.details.sticker_hashrate_ths,
        }
      : null,
  };
}

export function minerSummary(v: MinerView): string {
  const name = `${v.id}${v.hostname ? ` (${v.hostname})` : ''}`;
  if (v.status === 'offline')
    return `${name} at ${v.site} is OFFLINE since ${v.last_seen ?? 'never reached'}${v.last_error ? ` (${v.last_error})` : ''}.`;
  return (
    `${name} at ${v.site}: ${v.status}${v.degraded_reasons.length ? ` (${v.degraded_reasons.join(', ')})` : ''}, ` +
    `${v.hashrate_ths ?? '?'} TH/s = ${v.pct_nominal ?? '?'}% of nominal, ${v.power_w ?? '?'} W, ${v.efficiency_jth ?? '?'} J/TH, ` +
    `chip max ${v.temp_chip_max_c ?? '?'} °C, ${v.boards_hashing ?? '?'}/${v.boards_total ?? '?'} boards hashing; ${v.model ?? 'unknown model'}, firmware ${v.firmware ?? '?'}.`
  );
}

export const getMiner = defineTool({
  name: 'get_miner',
  title: 'Get miner',
  description:
    "Latest stored state of one miner: status and reasons, hashrate vs nominal, power, J/TH, temperatures, boards. view 'detailed' adds per-board, fan, pool and identity details.",
  access: 'read',
  category: 'miners',
  input: z.strictObject({
    miner: MinerArg,
    view: z.enum(['concise', 'detailed']).default('concise').describe("'concise' (default) or 'detailed'."),
  }),
  output: MinerView,
  async run(args, ctx) {
    const d = await ctx.deps.fleetQuery.getMiner(ctx.caller, args.miner);
    const structured = minerView(d, args.view);
    return { structured, summary: minerSummary(structured) };
  },
});

// ---- get_miner_config --------------------------------------------------------------------------

const RangeOut = z.object({ min: z.number(), max: z.number(), default: z.number().nullable() }).nullable();

const MinerConfigOut = z.object({
  miner: z.string(),
  hostname: z.string().nullable(),
  fetched_at: z.string(),
  tuner: z.object({
    mode: z.enum(['power', 'hashrate']).nullable().describe('Which target the autotuner follows.'),
    power_target_w: z.number().nullable(),
    hashrate_target_ths: z.number().nullable(),
    power_target_range_w: RangeOut.describe("The miner's own allowed range (GetConstraints)."),
    hashrate_target_range_ths: RangeOut,
  }),
  cooling: z.object({
    mode: z.string().nullable().describe('auto, manual, immersion, hydro or disabled.'),
    settings: z.record(z.string(), z.number().nullable()).describe('Mode settings: target/hot/dangerous °C, fan speeds …'),
  }),
  pools: z
    .array(
      z.object({
        group: z.string(),
        uid: z.string().nullable(),
        pools: z.array(z.object({ url: z.string(), user: z.string(), enabled: z.boolean() })),
      }),
    )
    .describe('Pool groups in priority order; passwords are never returned.'),
  hashboards: z.array(z.object({ id: z.string(), enabled: z.boolean() })),
  network: z
    .object({
      hostname: z.string().nullable(),
      mac: z.string().nullable(),
      protocol: z.string().nullable().describe('dhcp or static.'),
      addresses: z.array(z.string()),
      gateway: z.string().nullable(),
      dns: z.array(z.string()),
    })
    .nullable()
    .describe('null when the firmware does not report it.'),
  notes: z.array(z.string()),
});

export const getMinerConfig = defineTool({
  name: 'get_miner_config',
  title: 'Get miner configuration',
  description:
    'Live configuration read from the miner itself: tuner mode and power/hashrate target with its allowed range, cooling mode and thresholds, pool groups (no passwords), hashboards and network settings.',
  access: 'read',
  category: 'miners',
  live: true,
  input: z.strictObject({ miner: MinerArg }),
  output: MinerConfigOut,
  async run(args, ctx) {
    const { miner, client } = await liveClient(ctx, args.miner);
    const reader = new MinerStateReader(ctx.deps.infra);
    const config = await reader.config(client, ctx.signal);
    const notes: string[] = [];
    const constraints = await reader.constraints(miner.id, client, ctx.signal).catch(err => {
      notes.push(`constraints not available: ${isFleetError(err) ? err.message : 'error'}`);
      return null;
    });
    const net = await client.unary('NetworkService', 'GetNetworkInfo', {}, { signal: ctx.signal }).catch(err => {
      notes.push(`network settings not available: ${isFleetError(err) ? err.message : 'error'}`);
      return null;
    });
    const structured: z.output<typeof MinerConfigOut> = {
      miner: miner.id,
      hostname: net?.hostname || hostnameOf(miner),
      fetched_at: iso(Date.now()),
      tuner: {
        mode: config.tuner_mode,
        power_target_w: config.power_target_w,
        hashrate_target_ths: config.hashrate_target_ths,
        power_target_range_w: constraints?.power_target_w ?? null,
        hashrate_target_range_ths: constraints?.hashrate_target_ths ?? null,
      },
      cooling: { mode: config.cooling_mode, settings: config.cooling },
      pools: config.pool_groups.map(g => ({
        group: g.name,
        uid: g.uid,
        pools: g.pools.map(p => ({ url: stripPoolCredentials(p.url), user: p.user, enabled: p.enabled })),
      })),
      hashboards: config.hashboards,
      network: net
        ? {
            hostname: net.hostname ?? null,
            mac: net.mac_address ?? null,
            protocol: net.protocol ? String(net.protocol).replace('NETWORK_PROTOCOL_', '').toLowerCase() : null,
            addresses: net.networks.map(n => `${n.address}/${n.netmask}`),
            gateway: net.default_gateway ?? null,
            dns: net.dns_servers,
          }
        : null,
      notes,
    };
    const t = structured.tuner;
    const summary =
      `${miner.id}${structured.hostname ? ` (${structured.hostname})` : ''}: tuner ${t.mode ?? 'unknown'} ` +
      `${t.mode === 'hashrate' ? `${t.hashrate_target_ths} TH/s` : `${t.power_target_w ?? '?'} W`}` +
      `${t.power_target_range_w ? ` (allowed ${t.power_target_range_w.min}-${t.power_target_range_w.max} W)` : ''}, ` +
      `cooling ${structured.cooling.mode ?? '?'}, ${structured.pools.length} pool group(s) (${structured.pools
        .flatMap(g => g.pools.map(p => p.url))
        .slice(0, 3)
        .join(', ')}), ${structured.hashboards.filter(h => h.enabled).length}/${structured.hashboards.length} hashboards enabled.`;
    return { structured, summary };
  },
});

// ---- ping_miner --------------------------------------------------------------------------------

const PingOut = z.object({
  miner: z.string(),
  hostname: z.string().nullable(),
  address: z.string(),
  reachable: z.boolean(),
  latency_ms: z.number().nullable().describe('Round trip of GetApiVersion (no login).'),
  api_version: z.string().nullable(),
  auth_ok: z.boolean().nullable().describe('Our credentials were accepted (null when not reached).'),
  firmware: z.string().nullable(),
  miner_status: z.string().nullable(),
  uptime_s: z.number().nullable(),
  error_code: z.string().nullable(),
  message: z.string(),
  hint: z.string().optional(),
});

export const pingMiner = defineTool({
  name: 'ping_miner',
  title: 'Ping miner',
  description:
    'Live reachability check of one miner: API round trip latency, API and firmware version, whether our credentials work; an unreachable miner is reported with what to check, not as an error.',
  access: 'read',
  category: 'miners',
  live: true,
  input: z.strictObject({ miner: MinerArg }),
  output: PingOut,
  async run(args, ctx) {
    const { miner, client } = await liveClient(ctx, args.miner);
    const out: z.output<typeof PingOut> = {
      miner: miner.id,
      hostname: hostnameOf(miner),
      address: `${miner.host}:${miner.port}`,
      reachable: false,
      latency_ms: null,
      api_version: null,
      auth_ok: null,
      firmware: null,
      miner_status: null,
      uptime_s: null,
      error_code: null,
      message: '',
    };
    const t0 = performance.now();
    try {
      const v = await client.probe({ signal: ctx.signal, timeoutMs: 3_000 });
      out.latency_ms = Math.round((performance.now() - t0) * 10) / 10;
      out.reachable = true;
      out.api_version = `${v.major}.${v.minor}.${v.patch}`;
    } catch (err) {
      out.error_code = isFleetError(err) ? err.code : 'unreachable';
      out.message = isFleetError(err) ? err.message : `miner ${miner.id} did not answer`;
      out.hint =
        out.error_code === 'timeout'
          ? 'the miner answered too slowly: it may be overloaded or the network congested'
          : 'check power, the network cable and whether its IP changed (DHCP); get_events shows when it went offline';
      return { structured: out, summary: `${miner.id} (${out.address}) is NOT reachable: ${out.message}.` };
    }
    try {
      const d = await client.unary('MinerService', 'GetMinerDetails', {}, { signal: ctx.signal, timeoutMs: 3_000 });
      out.auth_ok = true;
      out.firmware = d.bos_version?.current || null;
      out.hostname = d.hostname || out.hostname;
      out.miner_status = String(d.status ?? '').replace('MINER_STATUS_', '').toLowerCase() || null;
      out.uptime_s = Number(d.system_uptime_s ?? 0) || null;
      out.message = `reachable in ${out.latency_ms} ms, API ${out.api_version}, firmware ${out.firmware ?? 'unknown'}`;
    } catch (err) {
      out.error_code = isFleetError(err) ? err.code : 'miner_error';
      out.auth_ok = out.error_code === 'auth_rejected' ? false : null;
      out.message = `reachable in ${out.latency_ms} ms, but ${isFleetError(err) ? err.message : 'the details call failed'}`;
      if (out.auth_ok === false) out.hint = 'fix the credentials configured for this miner (inventory credentials entry)';
    }
    return { structured: out, summary: `${miner.id}${out.hostname ? ` (${out.hostname})` : ''}: ${out.message}.` };
  },
});

// ---- get_miner_logs ----------------------------------------------------------------------------

export const LOG_TYPES = {
  bosminer: 'LOG_TYPE_BOSMINER',
  errors: 'LOG_TYPE_ERRORS',
  boser: 'LOG_TYPE_BOSER',
  monitor: 'LOG_TYPE_MONITOR',
  syslog: 'LOG_TYPE_SYSLOG',
  dmesg: 'LOG_TYPE_DMESG',
} as const;
type LogName = keyof typeof LOG_TYPES;

const LogsOut = z.object({
  miner: z.string(),
  hostname: z.string().nullable(),
  log: z.enum(Object.keys(LOG_TYPES) as [LogName, ...LogName[]]),
  lines: z.array(z.string()).describe('Oldest first; the newest line is last.'),
  returned: z.number(),
  truncated: z.boolean().describe('Older lines exist; raise lines (or use grep) to see more.'),
  hint: z.string().optional(),
});

/** Read a bounded tail of a miner log and keep the last `lines` lines (optionally matching grep). */
export async function readLogTail(
  client: MinerClient,
  log: LogName,
  lines: number,
  grep: string | undefined,
  signal: AbortSignal,
): Promise<{ lines: string[]; truncated: boolean }> {
  const maxBytes = Math.min(256 * 1024, Math.max(16 * 1024, lines * 400));
  const { text, truncated } = await client.readLog(LOG_TYPES[log], { maxBytes, signal, timeoutMs: 10_000 });
  let all = text.split('\n').filter(l => l.trim() !== '');
  if (truncated && all.length > 0) all = all.slice(1); // the first line may be cut
  if (grep) {
    const needle = grep.toLowerCase();
    all = all.filter(l => l.toLowerCase().includes(needle));
  }
  return { lines: all.slice(-lines).map(l => clip(l, 400)), truncated: truncated || all.length > lines };
}

export const getMinerLogs = defineTool({
  name: 'get_miner_logs',
  title: 'Get miner logs',
  description:
    'Bounded tail of one of the miner\'s own logs (bosminer by default, or errors, boser, monitor, syslog, dmesg), read live, optionally only lines containing grep.',
  access: 'read',
  category: 'miners',
  live: true,
  input: z.strictObject({
    miner: MinerArg,
    log: z.enum(Object.keys(LOG_TYPES) as [LogName, ...LogName[]]).default('bosminer').describe('Which log.'),
    lines: limitArg(40, 500, 'lines'),
    grep: z.string().min(1).max(100).optional().describe('Only lines containing this text (case-insensitive).'),
  }),
  output: LogsOut,
  async run(args, ctx) {
    const { miner, client } = await liveClient(ctx, args.miner);
    const want = args.lines ?? 40;
    const tail = await readLogTail(client, args.log, want, args.grep, ctx.signal);
    const make = (n: number) => {
      const lines = tail.lines.slice(tail.lines.length - n);
      const structured: z.output<typeof LogsOut> = {
        miner: miner.id,
        hostname: hostnameOf(miner),
        log: args.log,
        lines,
        returned: lines.length,
        truncated: tail.truncated || n < tail.lines.length,
      };
      if (n < tail.lines.length) structured.hint = 'lines were dropped to fit the answer size; use grep to narrow';
      else if (tail.lines.length === 0) structured.hint = args.grep ? 'no line contains grep; drop or change it' : 'the log is empty';
      const summary = `${lines.length} line(s) of the ${args.log} log of ${miner.id}${structured.truncated ? ' (tail; older lines exist)' : ''}${lines.length ? `; last: ${clip(lines[lines.length - 1]!, 160)}` : ''}.`;
      return { structured, summary };
    };
    return fitList(tail.lines.length, make, budgetFor(args.lines)).answer;
  },
});

// ---- diagnose_miner ----------------------------------------------------------------------------

const Cause = z.object({
  cause: z.string(),
  evidence: z.string(),
  next_step: z.string(),
  severity: z.enum(['info', 'warning', 'critical']),
});

const DiagnoseOut = z.object({
  miner: z.string(),
  hostname: z.string().nullable(),
  site: z.string(),
  model: z.string().nullable(),
  status: z.enum(HEALTH_STATUSES),
  checked_at: z.string(),
  state: z.object({
    last_seen: z.string().nullable(),
    stale: z.boolean(),
    hashrate_ths: z.number().nullable(),
    pct_nominal: z.number().nullable(),
    power_w: z.number().nullable(),
    temp_chip_max_c: z.number().nullable(),
    fan_rpm_min: z.number().nullable(),
    tuner_state: z.string().nullable(),
    miner_status: z.string().nullable(),
    degraded_reasons: z.array(z.enum(DEGRADED_REASONS)).describe("The collector's reasons for status degraded."),
  }),
  boards: z
    .array(
      z.object({
        board: z.string(),
        enabled: z.boolean(),
        hashrate_ths: z.number(),
        pct_nominal: z.number().nullable(),
        temp_chip_c: z.number().nullable(),
        chips: z.number().nullable(),
      }),
    )
    .describe('Per hashboard vs its nominal hashrate.'),
  live: z.object({
    reachable: z.boolean(),
    api_version: z.string().nullable(),
    latency_ms: z.number().nullable(),
    note: z.string().nullable(),
  }),
  miner_errors: z
    .array(
      z.object({
        time: z.string().nullable(),
        message: z.string(),
        hint: z.string().nullable(),
        component: z.string().nullable(),
        source: z.enum(['live', 'stored']).optional().describe('live: asked now; stored: as the collector last read them'),
      }),
    )
    .describe('Active errors the miner reports itself (GetErrors): live when it answers, else as the collector last stored them.'),
  events: z.array(z.object({ time: z.string(), kind: z.string(), severity: z.string(), message: z.string() })),
  log_tail: z.array(z.string()).describe('Last lines of the bosminer log.'),
  likely_causes: z.array(Cause).describe('Rule-based, most severe first.'),
});
type DiagnoseOut = z.output<typeof DiagnoseOut>;

const SEVERITY_RANK = { critical: 0, warning: 1, info: 2 } as const;

/** Likely causes from the stored state, the live checks, the miner's errors and recent events. */
export function likelyCauses(
  d: Omit<DiagnoseOut, 'likely_causes'>,
  errorCode: string | null,
  pools: MinerDetail['pools'],
  /** each board's expected hashrate (its share with every board counted), TH/s */
  boardExpectedThs: ReadonlyMap<string, number> = new Map(),
): z.output<typeof Cause>[] {
  const out: z.output<typeof Cause>[] = [];
  const s = d.state;
  // A paused or stopped miner hashes nothing by intent: its hashrate (all boards at 0) says
  // nothing about faults, so the pause itself is named instead.
  const idle = d.status === 'paused' || d.status === 'stopped';
  if (!d.live.reachable) {
    if (errorCode === 'auth_rejected')
      out.push({
        cause: 'our credentials are rejected',
        evidence: d.live.note ?? 'login failed',
        next_step: 'fix the credentials of this miner in the inventory (or its password on the miner)',
        severity: 'critical',
      });
    else
      out.push({
        cause: 'miner not reachable over the network',
        evidence: `${d.live.note ?? 'no answer'}; last seen ${s.last_seen ?? 'never'}`,
        next_step: 'check power and network cable, whether its IP changed (DHCP lease), and the switch port; ping_miner re-checks',
        severity: 'critical',
      });
  }
  if (d.status === 'paused' || d.status === 'stopped')
    out.push({
      cause: `mining is ${d.status}`,
      evidence: `miner status ${s.miner_status ?? d.status}; see control_action events`,
      next_step: 'if not intended (schedule or operator), resume with miner_action action=resume',
      severity: 'warning',
    });
  // The latest restart, named for what it was: a system reboot, a bosminer restart, or a restart
  // our own control action caused (planned, not a fault). Events are newest first.
  const restart = d.events.find(e => e.kind === 'reboot_detected' || e.kind === 'mining_restarted' || e.kind === 'planned_restart');
  if (restart?.kind === 'planned_restart')
    out.push({
      cause: 'restarted by a control action',
      evidence: `${restart.message} (${restart.time})`,
      next_step: 'nothing to fix: the restart was asked for; hashrate ramps up again within minutes',
      severity: 'info',
    });
  else if (restart?.kind === 'reboot_detected')
    out.push({
      cause: 'the miner rebooted',
      evidence: `${restart.message} at ${restart.time}; no control action explains it`,
      next_step: 'an unplanned reboot points at power (PSU, supply), overheating or a board fault; check get_miner_logs and the events around it',
      severity: 'warning',
    });
  else if (restart?.kind === 'mining_restarted')
    out.push({
      cause: 'bosminer (mining) restarted',
      evidence: `${restart.message} at ${restart.time}; no control action explains it`,
      next_step: 'the mining daemon restarted while the system kept running (crash, watchdog, a board failing to initialise); read the bosminer log with get_miner_logs',
      severity: 'warning',
    });
  for (const b of d.boards) {
    // idle, every board gives 0: only a board without chips is still a fault
    if (idle && b.chips !== 0) continue;
    const expected = boardExpectedThs.get(b.board);
    if (b.enabled && (b.hashrate_ths === 0 || b.chips === 0))
      out.push({
        cause: `hashboard ${b.board} not hashing`,
        evidence:
          `${b.hashrate_ths === 0 || b.chips === 0 ? 0 : b.hashrate_ths} TH/s${expected ? ` of its expected ${expected} TH/s` : ''}` +
          (b.chips === 0 ? ', no chips detected on the board' : b.chips !== null ? `, ${b.chips} chips detected` : ''),
        next_step: 'reseat the board data/power connectors; if it stays dead the board needs repair (or disable it with set_hashboards)',
        severity: 'critical',
      });
    else if (b.enabled && b.pct_nominal !== null && b.pct_nominal < 80)
      out.push({
        cause: `hashboard ${b.board} underperforming`,
        evidence: `${b.pct_nominal}% of its nominal hashrate`,
        next_step: 'failing chips or a bad connector; compare over time with query_telemetry, check the log for chip errors',
        severity: 'warning',
      });
  }
  const hot = (s.temp_chip_max_c !== null && s.temp_chip_max_c >= 85) || s.degraded_reasons.includes('overheating');
  if (hot)
    out.push({
      cause: 'overheating',
      evidence: `hottest chip ${s.temp_chip_max_c} °C${s.fan_rpm_min !== null ? `, slowest fan ${s.fan_rpm_min} rpm` : ''}`,
      next_step: 'check intake temperature, dust and airflow; lowering the power target reduces heat (set_power_target)',
      severity: (s.temp_chip_max_c ?? 0) >= 95 ? 'critical' : 'warning',
    });
  if ((s.fan_rpm_min === 0 || d.state.degraded_reasons.includes('fan_failure')) && d.live.reachable)
    out.push({
      cause: 'a fan is stopped',
      evidence: 'slowest fan at 0 rpm',
      next_step: 'replace the fan or its cable; the miner will throttle or stop when hot',
      severity: 'critical',
    });
  const enabledPools = pools.filter(p => p.enabled);
  if (d.live.reachable && enabledPools.length > 0 && (enabledPools.every(p => !p.alive) || s.degraded_reasons.includes('pool_dead')))
    out.push({
      cause: enabledPools.every(p => !p.alive) ? 'no pool is alive' : 'a configured pool is dead',
      evidence: `dead: ${enabledPools.filter(p => !p.alive).map(p => p.url).slice(0, 3).join(', ') || 'reported by the collector'} (${enabledPools.length} configured)`,
      next_step: 'check pool URLs and credentials (get_miner_config), DNS and outbound firewall; pool_health shows whether other miners see the same',
      severity: enabledPools.every(p => !p.alive) ? 'critical' : 'warning',
    });
  const shares = pools.reduce((a, p) => [a[0]! + p.accepted, a[1]! + p.rejected + p.stale], [0, 0]);
  if (shares[0]! + shares[1]! > 100 && shares[1]! / (shares[0]! + shares[1]!) > 0.02)
    out.push({
      cause: 'high rejected/stale share ratio',
      evidence: `${Math.round((shares[1]! / (shares[0]! + shares[1]!)) * 1000) / 10}% rejected or stale`,
      next_step: 'network latency to the pool or a wrong difficulty; try a closer pool endpoint',
      severity: 'warning',
    });
  if (s.tuner_state === 'tuning')
    out.push({
      cause: 'autotuner is tuning',
      evidence: 'tuner_state tuning (after a power target, firmware or cooling change)',
      next_step: 'hashrate settles within minutes to an hour; judge efficiency afterwards',
      severity: 'info',
    });
  // Only restarts nothing of ours explains count: planned_restart follows a control action.
  const reboots = d.events.filter(e => e.kind === 'reboot_detected').length;
  if (reboots >= 2)
    out.push({
      cause: 'repeated reboots',
      evidence: `${reboots} system reboots among the recent events, none after a control action`,
      next_step: 'reboot loops point at the PSU, a shorted board or overheating; check dmesg/syslog with get_miner_logs',
      severity: 'warning',
    });
  const restarts = d.events.filter(e => e.kind === 'mining_restarted').length;
  if (restarts >= 2)
    out.push({
      cause: 'repeated mining restarts',
      evidence: `bosminer restarted ${restarts} times among the recent events while the system kept running, none after a control action`,
      next_step: 'bosminer crashing or restarted by its watchdog: a board failing to initialise or a bad configuration; read the bosminer log with get_miner_logs',
      severity: 'warning',
    });
  if (
    !idle &&
    d.live.reachable &&
    s.pct_nominal !== null &&
    s.pct_nominal < 90 &&
    !out.some(c => c.cause.startsWith('hashboard') || c.cause === 'autotuner is tuning' || c.cause === 'overheating')
  )
    out.push({
      cause: 'low hashrate without a board fault',
      evidence: `${s.pct_nominal}% of nominal`,
      next_step: 'a low power target or thermal throttling; compare power_target with get_miner_config and the trend with query_telemetry',
      severity: 'warning',
    });
  for (const e of d.miner_errors.slice(0, 5))
    out.push({
      cause: `miner reports: ${clip(e.message, 120)}`,
      evidence: `GetErrors${e.component ? ` (${e.component})` : ''}${e.time ? ` at ${e.time}` : ''}`,
      next_step: e.hint ?? 'see the miner log around that time (get_miner_logs)',
      severity: 'warning',
    });
  if (s.stale && d.live.reachable)
    out.push({
      cause: 'stored data is stale while the miner answers',
      evidence: `last successful poll ${s.last_seen ?? 'never'}`,
      next_step: 'check that the collector is running and can reach the miner',
      severity: 'warning',
    });
  if (out.length === 0)
    out.push({
      cause: 'no fault found',
      evidence: `${d.status}, ${s.pct_nominal ?? '?'}% of nominal, chip max ${s.temp_chip_max_c ?? '?'} °C`,
      next_step: 'nothing to do; watch the trend with query_telemetry',
      severity: 'info',
    });
  return out.sort((a, b) => SEVERITY_RANK[a.severity] - SEVERITY_RANK[b.severity]);
}

export const diagnoseMiner = defineTool({
  name: 'diagnose_miner',
  title: 'Diagnose miner',
  description:
    'Use when one miner misbehaves: combines its stored state, per-board hashrate vs nominal, recent events, live checks (reachability, the miner\'s own errors, a log tail) and returns a ranked list of likely causes with next steps.',
  access: 'read',
  category: 'miners',
  live: true,
  input: z.strictObject({
    miner: MinerArg,
    log_lines: z.coerce.number().int().min(0).max(50).default(12).describe('Log lines to include (default 12, 0 = none).'),
  }),
  output: DiagnoseOut,
  async run(args, ctx) {
    const detail = await ctx.deps.fleetQuery.getMiner(ctx.caller, args.miner);
    const [events, live] = await Promise.all([
      ctx.deps.fleetQuery.events(ctx.caller, { miner: detail.id, limit: 10 }).catch(() => null),
      // Stored state is still worth a diagnosis when the miner left the inventory.
      liveClient(ctx, detail.id).catch(err => (isFleetError(err) ? err : null)),
    ]);
    const client = live && !isFleetError(live) ? live.client : null;
    const liveOut: DiagnoseOut['live'] = { reachable: false, api_version: null, latency_ms: null, note: null };
    let errorCode: string | null = null;
    const t0 = performance.now();
    try {
      if (!client) throw live ?? new FleetError('internal', 'no client');
      const v = await client.probe({ signal: ctx.signal, timeoutMs: 3_000 });
      liveOut.reachable = true;
      liveOut.latency_ms = Math.round((performance.now() - t0) * 10) / 10;
      liveOut.api_version = `${v.major}.${v.minor}.${v.patch}`;
    } catch (err) {
      errorCode = isFleetError(err) ? err.code : 'unreachable';
      liveOut.note = isFleetError(err) ? err.message : 'no answer';
    }
    const minerErrors: DiagnoseOut['miner_errors'] = [];
    let logTail: string[] = [];
    if (liveOut.reachable && client) {
      const [errs, log] = await Promise.all([
        client.unary('MinerService', 'GetErrors', {}, { signal: ctx.signal }).catch(err => {
          if (isFleetError(err) && err.code === 'auth_rejected') {
            errorCode = 'auth_rejected';
            liveOut.reachable = false;
            liveOut.note = err.message;
          }
          return null;
        }),
        args.log_lines > 0
          ? readLogTail(client, 'bosminer', args.log_lines, undefined, ctx.signal).catch(() => null)
          : Promise.resolve(null),
      ]);
      for (const e of errs?.errors ?? []) {
        if (minerErrors.length >= 8) break;
        const code = e.error_codes[0];
        const comp = e.components[0];
        minerErrors.push({
          time: e.timestamp || null,
          message: clip(`${code?.code ? `${code.code}: ` : ''}${e.message || code?.reason || 'error'}`, 200),
          hint: code?.hint ? clip(code.hint, 200) : null,
          component: comp ? `${comp.name}${comp.index !== undefined ? ` ${comp.index}` : ''}` : null,
          source: 'live',
        });
      }
      logTail = (log?.lines ?? []).map(l => clip(l, 200));
    }
    // Not asked live (unreachable, or GetErrors failed): what the collector stored with the snapshot.
    if (minerErrors.length === 0 && !(liveOut.reachable && client))
      for (const e of (detail.details?.errors ?? []).slice(0, 8))
        minerErrors.push({
          time: e.time,
          message: clip(`${e.codes.length ? `${e.codes.join(', ')}: ` : ''}${e.message}`, 200),
          hint: e.hint ? clip(e.hint, 200) : null,
          component: e.component,
          source: 'stored',
        });
    const base: Omit<DiagnoseOut, 'likely_causes'> = {
      miner: detail.id,
      hostname: detail.hostname,
      site: detail.site,
      model: detail.model,
      status: detail.status,
      checked_at: iso(Date.now()),
      state: {
        last_seen: detail.last_seen,
        stale: detail.stale,
        hashrate_ths: detail.hashrate_ths,
        pct_nominal: detail.pct_nominal,
        power_w: detail.power_w,
        temp_chip_max_c: detail.temp_chip_max_c,
        fan_rpm_min: detail.fan_rpm_min,
        tuner_state: detail.tuner_state,
        miner_status: detail.miner_status,
        degraded_reasons: detail.degraded_reasons,
      },
      boards: detail.boards.map(b => ({
        board: b.board,
        enabled: b.enabled,
        hashrate_ths: b.hashrate_ths,
        pct_nominal: b.pct_nominal,
        temp_chip_c: b.temp_chip_c,
        chips: b.chips,
      })),
      live: liveOut,
      miner_errors: minerErrors,
      events: (events?.items ?? []).map(e => ({ time: e.time, kind: e.kind, severity: e.severity, message: clip(e.message, 160) })),
      log_tail: logTail,
    };
    let structured: DiagnoseOut = { ...base, likely_causes: likelyCauses(base, errorCode, detail.pools, new Map(detail.boards.map(b => [b.board, b.hashrate_nominal_ths]))) };
    // Keep the answer bounded: trim the log first, then events.
    const fit = fitList(
      structured.log_tail.length,
      n => {
        const s = { ...structured, log_tail: structured.log_tail.slice(structured.log_tail.length - n) };
        return { structured: s, summary: '' };
      },
      7_000,
    );
    structured = fit.answer.structured;
    const top = structured.likely_causes[0]!;
    const summary =
      `${detail.id}${detail.hostname ? ` (${detail.hostname})` : ''} is ${detail.status}; ${structured.likely_causes.length} finding(s), ` +
      `most likely: ${top.cause} (${top.evidence}). Next: ${top.next_step}.`;
    return { structured, summary };
  },
});

export const minerTools = [listMiners, getMiner, getMinerConfig, pingMiner, getMinerLogs, diagnoseMiner];
