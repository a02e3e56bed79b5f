/**
 * MCP prompts: ready-made investigations. Each tells the model which tools to use, in what
 * order, and what to report; when the caller may not change miners (viewer role, read-only
 * server) the prompt says so and asks for a proposal instead of an action.
 */
import { completable, type GetPromptResult, type McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import type { ToolEnv } from './define-tool.ts';

export const PROMPT_NAMES = [
  'fleet_health_report',
  'diagnose_miner',
  'troubleshoot_offline',
  'optimize_efficiency',
  'plan_firmware_rollout',
  'curtailment_plan',
  'plan_tonight_curtailment',
] as const;

function message(text: string): GetPromptResult {
  return { messages: [{ role: 'user', content: { type: 'text', text } }] };
}

export function registerPrompts(server: McpServer, env: ToolEnv, tools: ReadonlySet<string>): void {
  const canControl = tools.has('set_power_target');
  const readOnlyNote = canControl
    ? 'Before any change, run it with dry_run: true, show me the plan and expected effect, and wait for my go-ahead.'
    : 'You cannot change miners in this session (read-only): propose the changes with the exact tool calls an operator would make.';
  const minerId = completable(
    z.string().describe('Miner id (list_miners shows them).'),
    (value: string) => env.lookup.complete(env.caller, value),
  );

  server.registerPrompt(
    'fleet_health_report',
    {
      title: 'Fleet health report',
      description: 'A short health report of the whole fleet over a window: state, losses, hot spots, pools, what to fix first.',
      argsSchema: z.object({ window: z.string().optional().describe('Window such as 24h (default) or 7d.') }),
    },
    ({ window }) => {
      const w = window || '24h';
      return message(
        `Write a health report of my mining fleet for the last ${w}.\n` +
          `1. fleet_overview: miners by status, hashrate vs nominal, power, J/TH; note stale data.\n` +
          `2. find_underperformers (window ${w}) and find_hot_spots (window ${w}): the worst machines with hostnames. ` +
          `For a miner with a dead board, find_underperformers level=board names the board: report it as "board N: 0 of its expected X TH/s", not as a lower nominal.\n` +
          `3. availability_report (window ${w}) and pool_health: flaky machines and dead or rejecting pools.\n` +
          `4. get_events (severity warning, then critical) for what happened. Name restarts by kind: reboot_detected = the system rebooted, ` +
          `mining_restarted = bosminer restarted while the system ran, planned_restart = after our own control action (not a fault).\n` +
          `A miner paused or stopped (fleet_overview paused/stopped, list_miners status=paused) is paused or stopped, not an underperformer or "low hashrate": ` +
          `list it separately with who paused it (control_action events) if that is known.\n` +
          `Report: a 3-line summary with the fleet figures, a table of the top problems (miner, hostname, site, issue, evidence), ` +
          `lost hashrate in TH/s, and the 3 actions that recover the most hashrate first. Keep it under 300 words.`,
      );
    },
  );

  server.registerPrompt(
    'diagnose_miner',
    {
      title: 'Diagnose a miner',
      description: 'Find out why one miner underperforms or misbehaves and what to do about it.',
      argsSchema: z.object({ miner: minerId }),
    },
    ({ miner }) =>
      message(
        `Diagnose miner ${miner}.\n` +
          `1. diagnose_miner miner=${miner}: stored state, boards vs nominal, live checks, its own errors, log tail and ranked likely causes.\n` +
          `2. query_telemetry miners=["${miner}"] window=24h for the trend of hashrate, power and chip temperature; ` +
          `get_miner_config for its power target, cooling and pools if a cause points there.\n` +
          `3. get_miner_logs (grep for the error) if the cause is unclear.\n` +
          `Report: what is wrong (one sentence), the evidence (numbers with units and times), the fix in order of likelihood, ` +
          `and whether it needs someone on site. ${readOnlyNote}`,
      ),
  );

  server.registerPrompt(
    'troubleshoot_offline',
    {
      title: 'Troubleshoot offline miners',
      description: 'Work out why miners are offline (one miner, a site, or the whole fleet) and what to check.',
      argsSchema: z.object({
        miner: minerId.optional(),
        site: z.string().optional().describe('Only this site.'),
      }),
    },
    ({ miner, site }) => {
      const scope = miner ? `miner ${miner}` : site ? `the offline miners of site ${site}` : 'the offline miners of my fleet';
      return message(
        `Troubleshoot ${scope}.\n` +
          (miner
            ? `1. ping_miner miner=${miner}: reachable? credentials accepted? 2. get_events miner=${miner} to see when it went offline and what came before (reboot_detected = system reboot, mining_restarted = bosminer restart, planned_restart = after our own control action; overheating).\n`
            : `1. list_miners status=offline${site ? ` site=${site}` : ''} sort=last_seen: how many, since when, which sites and racks (labels).\n` +
              `2. ping_miner on a few of them, and get_events kind=miner_offline to see whether they dropped together (network or power of a rack/site) or one by one.\n`) +
          `3. availability_report to tell a flapping machine from a dead one.\n` +
          `Report: the likely cause per group (power, network/switch, DHCP address change, credentials, hardware), ` +
          `the evidence, and a checklist for the technician on site. ${readOnlyNote}`,
      );
    },
  );

  server.registerPrompt(
    'optimize_efficiency',
    {
      title: 'Optimize efficiency',
      description: 'Find where the fleet wastes energy and propose power targets to reach a J/TH goal.',
      argsSchema: z.object({
        target_jth: z.string().optional().describe('Efficiency goal in J/TH, e.g. 22.'),
        site: z.string().optional().describe('Only this site.'),
      }),
    },
    ({ target_jth, site }) =>
      message(
        `Improve the energy efficiency of ${site ? `site ${site}` : 'my fleet'}${target_jth ? ` towards ${target_jth} J/TH` : ''}.\n` +
          `1. efficiency_report (window 24h${site ? `, site ${site}` : ''}): fleet J/TH and the least efficient miners.\n` +
          `2. For the worst 3, run_performance_baseline with dry_run first (it reads the tuned efficiency profile when the firmware has one) ` +
          `and get_miner_config for their current power target and range.\n` +
          `3. compare_periods before/after any earlier change, if the events show one.\n` +
          `Report: where the waste is (model, site, individual machines), the expected kW and TH/s effect of each proposed ` +
          `set_power_target, and the resulting fleet J/TH. ${readOnlyNote}`,
      ),
  );

  server.registerPrompt(
    'plan_firmware_rollout',
    {
      title: 'Plan a firmware rollout',
      description: 'Plan a safe firmware upgrade: which miners, canary, waves, health gate, and the risks.',
      argsSchema: z.object({
        version: z.string().optional().describe('Target firmware version (or the sha256 of the stored image).'),
        site: z.string().optional().describe('Only this site.'),
      }),
    },
    ({ version, site }) =>
      message(
        `Plan a firmware upgrade${version ? ` to ${version}` : ''}${site ? ` for site ${site}` : ''}.\n` +
          `1. fleet_overview and list_miners${site ? ` site=${site}` : ''} (firmware filter) to see which versions run where.\n` +
          `2. start_firmware_rollout with dry_run: true${version ? ` version=${version}` : ''} and a selector${site ? ` {site: "${site}"}` : ''}: ` +
          `the wave plan, miners already current, and the stored images if the version is unknown.\n` +
          `3. find_underperformers and list_miners status=offline: exclude or fix unhealthy miners first, since the health gate ` +
          `compares hashrate before and after.\n` +
          `Report: the plan (canary size, wave size, parallelism, gate %, timeouts), the miners excluded and why, the expected ` +
          `duration, and the rollback behaviour. ${canControl ? 'Start it only after I confirm; while it runs, report progress and stop it with cancel_job if the canary fails.' : readOnlyNote}`,
      ),
  );

  server.registerPrompt(
    'curtailment_plan',
    {
      title: 'Curtailment plan',
      description: 'Plan how to shed a given amount of power during a time window with the least hashrate lost.',
      argsSchema: z.object({
        target_kw: z.string().describe('Power to shed, kW.'),
        start: z.string().optional().describe('When the window starts, e.g. 17:00 Europe/Prague or a cron like "0 17 * * 1-5".'),
        duration: z.string().optional().describe('How long, e.g. 3h.'),
        site: z.string().optional().describe('Only this site.'),
      }),
    },
    ({ target_kw, start, duration, site }) =>
      message(
        `I need to shed ${target_kw} kW${start ? ` starting ${start}` : ''}${duration ? ` for ${duration}` : ''}${site ? ` at site ${site}` : ''}.\n` +
          `1. fleet_overview for current power per site; efficiency_report order=worst to find the miners that give the least TH/s per kW.\n` +
          `2. Compare options with dry_run: pausing the least efficient miners (miner_action action=pause with a selector) vs lowering ` +
          `power targets (set_power_target percent/reference or delta_w); each dry run returns the expected kW and TH/s change.\n` +
          `3. For a recurring window, set_power_schedule with dry_run: true shows the next windows and the miners matched; ` +
          `list_power_schedules shows existing ones.\n` +
          `Report: the option that meets ${target_kw} kW with the least lost TH/s, the miners involved (count, sites), the expected ` +
          `kW and TH/s, and how the miners come back at the end. ${readOnlyNote}`,
      ),
  );

  server.registerPrompt(
    'plan_tonight_curtailment',
    {
      title: "Plan tonight's curtailment",
      description: 'Decide which miners to curtail tonight from their profitability at the current prices, then plan it with a curtailment policy (dry run first).',
      argsSchema: z.object({
        site: z.string().optional().describe('Only this site.'),
        night: z.string().optional().describe('The night to plan, e.g. "18:00-06:00 Europe/Prague" (default: tonight, site local time).'),
      }),
    },
    ({ site, night }) => {
      const where = site ? ` site=${site}` : '';
      return message(
        `Plan tonight's curtailment${site ? ` for site ${site}` : ''}${night ? ` (${night})` : ''}.\n` +
          `1. get_profitability${where} from=now-24h group_by=site, then group_by=model: margin per site and model, and the hashprice and energy price used (check their "as of" and stale flags; say so if a price is stale or missing).\n` +
          `2. find_losing_miners${where}: the miners that lose money at the current prices, and get_break_even${where} for the energy price per MWh above which each model loses money. ` +
          `Compare tonight's energy prices with those break-even prices (pass energy_price_per_mwh to find_losing_miners as a what-if for the expensive hours).\n` +
          `3. list_curtailment_policies: the policies that cover these miners (strike price, target, order, exemptions).\n` +
          `4. plan_curtailment with a dry run first for tonight: which miners are curtailed when, kW and TH/s affected, energy cost saved and revenue forgone. ` +
          `If list_curtailment_policies or plan_curtailment is not offered in this session, stop after step 2 and propose the plan as a list of miners and hours.\n` +
          `Report: the prices used and their age, the losing miners (count, models, sites, loss per night), the break-even price per model, the dry-run plan ` +
          `(windows, miners, kW shed, cost saved vs revenue forgone), and what stays running. ` +
          `${canControl ? 'Do not execute anything: show me the dry run and wait until I confirm (then curtail_now or the policy runs it).' : readOnlyNote}`,
      );
    },
  );
}
