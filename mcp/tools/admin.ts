/**
 * Inventory administration (admin role): add and remove miners, ask the collector to scan a
 * network range, and the factory reset of one miner, which needs the miner's id repeated in
 * `confirm` so it cannot happen by accident.
 */
import { z } from 'zod';
import { FleetError } from '../../core/errors.ts';
import { scopeNameSchema } from '../../collector/inventory/schema.ts';
import { iso } from '../../services/query/time.ts';
import { badArgument, defineTool } from '../define-tool.ts';
import { DryRunArg, MinerArg } from './shared.ts';
import { liveClient } from './miners.ts';
import { constraintsCacheKey } from '../../services/control/miner-state.ts';

const InventoryEntry = z.object({
  id: z.string(),
  address: z.string(),
  port: z.number().nullable(),
  site: z.string().nullable(),
  credentials: z.string().nullable().describe('Name of the credentials entry (never the secret).'),
  labels: z.record(z.string(), z.string()),
  state: z.enum(['active', 'pending', 'quarantined']).describe('pending until the collector picks it up; quarantined: held back (see the inventory list for why).'),
});

const RegisterOut = z.object({ miner: InventoryEntry, hint: z.string() });

export const registerMiner = defineTool({
  name: 'register_miner',
  title: 'Register miner',
  description:
    'Add a miner to the inventory by address (and optional id, port, site, credentials name, labels); the collector starts polling it within seconds.',
  access: 'admin',
  category: 'admin',
  input: z.strictObject({
    address: z.string().regex(/^[A-Za-z0-9.:-]{1,253}$/, { error: 'expected a host name or IP address' }).describe('Host name or IP address of the miner.'),
    id: z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/).optional().describe('Id to use (default: derived from the miner).'),
    port: z.coerce.number().int().min(1).max(65_535).optional().describe('gRPC port (default 50051).'),
    site: scopeNameSchema.optional().describe('Site (default: the default site).'),
    credentials: scopeNameSchema.optional().describe('Name of a credentials entry (default: default).'),
    labels: z.record(z.string().min(1).max(64), z.string().max(256)).optional().describe('Labels such as {"rack": "r01"}.'),
  }),
  output: RegisterOut,
  async run(args, ctx) {
    const input = {
      address: args.address,
      ...(args.id !== undefined ? { id: args.id } : {}),
      ...(args.port !== undefined ? { port: args.port } : {}),
      ...(args.site !== undefined ? { site: args.site } : {}),
      ...(args.credentials !== undefined ? { credentials: args.credentials } : {}),
      labels: args.labels ?? {},
    };
    const m = await ctx.deps.plane.inventory.addMiner(ctx.caller, input);
    return {
      structured: {
        miner: { id: m.id, address: m.address, port: m.port, site: m.site, credentials: m.credentials, labels: m.labels, state: m.state },
        hint: 'the collector picks it up within seconds; get_miner shows its state once polled',
      },
      summary: `Registered miner ${m.id} at ${m.address}${m.port ? `:${m.port}` : ''} (site ${m.site ?? 'default'}); polling starts shortly.`,
    };
  },
});

const UnregisterOut = z.object({ miner: z.string(), removed: z.boolean(), dry_run: z.boolean(), hint: z.string().optional() });

export const unregisterMiner = defineTool({
  name: 'unregister_miner',
  title: 'Unregister miner',
  description:
    'Remove a miner that was added through the API from the inventory (its stored state disappears from fleet answers); miners from the inventory file or scans are refused with where to change them. dry_run: true only checks.',
  access: 'admin',
  category: 'admin',
  idempotent: true,
  input: z.strictObject({ miner: MinerArg, dry_run: DryRunArg }),
  output: UnregisterOut,
  async run(args, ctx) {
    if (args.dry_run) {
      const m = await ctx.deps.plane.inventory.getMiner(ctx.caller, args.miner);
      if (m.source !== 'api')
        throw new FleetError('conflict', `miner '${m.id}' comes from the ${m.source === 'file' ? 'inventory file; remove it there' : 'network scan'}`);
      return {
        structured: { miner: m.id, removed: false, dry_run: true, hint: 'dry run: call again with dry_run: false to remove it' },
        summary: `Dry run: miner ${m.id} (${m.address}) would be removed from the inventory. Nothing was changed.`,
      };
    }
    await ctx.deps.plane.inventory.removeMiner(ctx.caller, args.miner);
    return {
      structured: { miner: args.miner, removed: true, dry_run: false },
      summary: `Removed miner ${args.miner} from the inventory; it is no longer polled.`,
    };
  },
});

const ScanOut = z.object({
  id: z.string(),
  cidr: z.string(),
  site: z.string(),
  requested_at: z.string(),
  hint: z.string(),
});

export const scanNetwork = defineTool({
  name: 'scan_network',
  title: 'Scan network',
  description:
    'Ask the collector to probe an IPv4 range (at most a /16) for Braiins OS miners and add those it finds to the inventory with the given site, credentials and labels.',
  access: 'admin',
  category: 'admin',
  input: z.strictObject({
    cidr: z.string().describe('IPv4 range such as 10.0.1.0/24 (at most /16).'),
    site: scopeNameSchema.optional().describe('Site for the miners found.'),
    port: z.coerce.number().int().min(1).max(65_535).optional().describe('gRPC port to probe (default 50051).'),
    credentials: scopeNameSchema.optional().describe('Credentials entry for the miners found.'),
    labels: z.record(z.string().min(1).max(64), z.string().max(256)).optional().describe('Labels for the miners found.'),
  }),
  output: ScanOut,
  async run(args, ctx) {
    const r = await ctx.deps.plane.inventory.requestScan(ctx.caller, {
      cidr: args.cidr,
      ...(args.site !== undefined ? { site: args.site } : {}),
      ...(args.port !== undefined ? { port: args.port } : {}),
      ...(args.credentials !== undefined ? { credentials: args.credentials } : {}),
      labels: args.labels ?? {},
    });
    return {
      structured: {
        id: r.id,
        cidr: r.cidr,
        site: r.site,
        requested_at: iso(r.requested_ms),
        hint: 'the collector scans in the background; list_miners with site shows what was found',
      },
      summary: `Scan of ${r.cidr} requested (site ${r.site}); miners found are added to the inventory as they answer.`,
    };
  },
});

const ResetOut = z.object({ miner: z.string(), hostname: z.string().nullable(), dry_run: z.boolean(), done: z.boolean(), message: z.string() });

export const factoryReset = defineTool({
  name: 'factory_reset',
  title: 'Factory reset',
  description:
    'Erase one miner\'s configuration (pools, tuning, cooling, password) back to factory defaults and reboot it; needs confirm set to the miner id. dry_run: true only checks that it would work.',
  access: 'admin',
  category: 'admin',
  live: true,
  input: z.strictObject({
    miner: MinerArg,
    confirm: z.string().describe('Must equal the miner id: the explicit confirmation of this irreversible action.'),
    dry_run: DryRunArg,
  }),
  output: ResetOut,
  async run(args, ctx) {
    if (args.confirm !== args.miner)
      throw badArgument('confirm', `must equal the miner id '${args.miner}' to confirm the factory reset (irreversible)`);
    const { miner, client } = await liveClient(ctx, args.miner);
    const hostname = miner.snapshot?.sample?.hostname || miner.snapshot?.details?.hostname || null;
    const v = await client.probe({ signal: ctx.signal });
    if (v.major === 1 && v.minor < 9)
      throw new FleetError('unsupported', `miner ${miner.id} runs API ${v.major}.${v.minor}.${v.patch}; factory reset needs 1.9 or newer`);
    if (args.dry_run)
      return {
        structured: { miner: miner.id, hostname, dry_run: true, done: false, message: 'the miner answers and supports a factory reset; nothing was changed' },
        summary: `Dry run: ${miner.id} can be factory reset (API ${v.major}.${v.minor}). Nothing was changed.`,
      };
    let result = 'ok';
    try {
      await client.unary('ActionsService', 'FactoryReset', {}, { signal: ctx.signal });
    } catch (err) {
      result = 'failed';
      throw err;
    } finally {
      await ctx.deps.plane.control.note(ctx.caller, {
        time_ms: Date.now(),
        site: miner.site,
        miner: miner.id,
        kind: 'control_action',
        severity: 'warning',
        message: `factory reset ${result === 'ok' ? 'sent' : 'failed'}`,
        result,
        data: { action: 'factory_reset' },
      });
      // Its limits may change with the defaults.
      await ctx.deps.infra.store.cache.del(constraintsCacheKey(miner.id)).catch(() => undefined);
    }
    return {
      structured: {
        miner: miner.id,
        hostname,
        dry_run: false,
        done: true,
        message: 'factory reset sent; the miner reboots with default settings (its password is the factory default now)',
      },
      summary: `Factory reset sent to ${miner.id}${hostname ? ` (${hostname})` : ''}; it reboots with default settings.`,
    };
  },
});

export const adminTools = [registerMiner, unregisterMiner, scanNetwork, factoryReset];
