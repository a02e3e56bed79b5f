import type { Client } from '@modelcontextprotocol/client';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaksIn, namesAnInput, shortly } from './contract-checks.ts';
import { startContractApp, type ContractApp, type TenantObjects } from './contract-app.ts';
import { knownDefect } from './known-defects.ts';
import { fuzzOf, validOf, type Hints, type JsonSchema } from './schema-arbitrary.ts';

// Property-based fuzzing of every MCP tool that tools/list announces to an admin, through the
// real MCP client SDK over Streamable HTTP to the real app's /mcp (JWT, rate limits and all).
// Arguments come from each tool's inputSchema, mostly valid with one argument hostile, missing
// or unknown. Every call must end as a result (a tool error for bad arguments, never a JSON-RPC
// protocol error or a hang), with no stack, file path or internal error text, and a tool error
// about arguments names the argument. Control tools act on simulated miners.
//
// Arguments that ask for a long wait by design are held short so "no hang" means something:
// wait_s is 0 or 1 (valid values), and run_performance_baseline runs as a dry run (a real
// stepping baseline waits settle_s + sample_s per step, minutes by design).
//
// Deterministic: FUZZ_SEED seeds every tool (seed ^ hash of the name); failures print it.
const SEED = Number(process.env.FUZZ_SEED ?? 150_015);
const RUNS = Number(process.env.FUZZ_RUNS ?? 15);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 12_000);
const DEADLINE_MS = 15_000;

let c: ContractApp;
let client: Client;
let tools: { name: string; inputSchema: JsonSchema }[];
let hints: Hints;
let own: TenantObjects;
let other: TenantObjects;

beforeAll(async () => {
  c = await startContractApp();
  own = await c.seedObjects(c.tenants[0]!.name);
  other = await c.seedObjects(c.tenants[1]!.name);
  client = await c.mcp(c.tenants[0]!.name, 'admin');
  tools = (await client.listTools()).tools as typeof tools;
  hints = { ids: [...own.miners, ...other.miners], sites: ['site-1', 'site-2'] };
}, 120_000);

afterAll(async () => {
  await c?.close();
});

const hash = (s: string): number => [...s].reduce((a, ch) => (Math.imul(a, 31) + ch.charCodeAt(0)) | 0, 7);

/** Per-tool id hints: job tools take job ids, schedule tools schedule ids. */
function hintsFor(tool: string): Hints {
  if (/job/.test(tool)) return { ...hints, ids: [own.jobId, other.jobId] };
  if (/schedule/.test(tool)) return { ...hints, ids: [own.scheduleId, other.scheduleId] };
  return hints;
}

/** See the header: arguments whose valid values mean "wait minutes". */
function heldShort(tool: string, args: Record<string, unknown>): Record<string, unknown> {
  const out = { ...args };
  if (typeof out.wait_s === 'number' && out.wait_s > 1) out.wait_s = 1;
  if (tool === 'run_performance_baseline') out.dry_run = true;
  return out;
}

function argsOf(tool: string, schema: JsonSchema): fc.Arbitrary<Record<string, unknown>> {
  const h = hintsFor(tool);
  const props = schema.properties ?? {};
  return validOf(schema, h)
    .chain(v => {
      const value = v as Record<string, unknown>;
      const keys = Object.keys(props);
      const options: { weight: number; arbitrary: fc.Arbitrary<Record<string, unknown>> }[] = [
        { weight: 3, arbitrary: fc.constant(value) },
        { weight: 1, arbitrary: fuzzOf({}, h).map(x => ({ ...value, unknown_arg: x })) },
      ];
      if (keys.length > 0) {
        options.push({ weight: 4, arbitrary: fc.constantFrom(...keys).chain(k => fuzzOf(props[k]!, h, k).map(x => ({ ...value, [k]: x }))) });
        options.push({
          weight: 1,
          arbitrary: fc.constantFrom(...keys).map(k => Object.fromEntries(Object.entries(value).filter(([x]) => x !== k))),
        });
      }
      return fc.oneof(...options);
    })
    .map(a => heldShort(tool, a));
}

interface ToolResult {
  isError?: boolean;
  content?: { type: string; text?: string }[];
}

interface Finding {
  tool: string;
  problem: string;
  args: string;
}

/** Call a tool and judge the outcome (problem null: fine); known defects are counted in `known`. */
async function callChecked(
  tool: { name: string; inputSchema: JsonSchema },
  args: Record<string, unknown>,
  known: Map<string, number>,
): Promise<{ problem: string | null; outcome: string }> {
  const argNames = Object.keys(tool.inputSchema.properties ?? {});
  let problem: string | null = null;
  let outcome = 'ok';
  let answer = '';
  const t0 = performance.now();
  try {
    const r = (await client.callTool(
      { name: tool.name, arguments: args },
      { timeout: DEADLINE_MS, signal: AbortSignal.timeout(DEADLINE_MS) },
    )) as ToolResult;
    const text = (r.content ?? []).map(x => x.text ?? '').join('\n');
    if (r.isError) {
      answer = text;
      outcome = /^([a-z_]+):/.exec(text)?.[1] ?? 'error';
      if (process.env.FUZZ_VERBOSE === '2') console.log(`${tool.name} ${shortly(args).slice(0, 200)} -> ${text.slice(0, 300)}`);
      const leak = leaksIn(text);
      if (leak) problem = `tool error leaks a ${leak}`;
      else if (outcome === 'internal') problem = `internal tool error: ${text.slice(0, 300)}`;
      else if (outcome === 'invalid_argument' || /validation|invalid/i.test(text)) {
        if (!namesAnInput(text, [...argNames, ...Object.keys(args)])) problem = `argument error names no argument: ${text.slice(0, 300)}`;
      }
    } else {
      const leak = leaksIn(JSON.stringify(r));
      if (leak) problem = `answer leaks a ${leak}`;
    }
  } catch (err) {
    const e = err as Error & { code?: number };
    outcome = `protocol ${e.code ?? e.name}`;
    answer = e.message;
    problem =
      performance.now() - t0 >= DEADLINE_MS - 50
        ? `no answer within ${DEADLINE_MS} ms`
        : `protocol error instead of a tool result: ${e.code ?? ''} ${e.message.slice(0, 300)}`;
  }
  if (!problem) return { problem, outcome };
  const k = knownDefect({ op: `mcp ${tool.name}`, outcome: outcome === 'internal' ? 'internal' : 0, input: args, text: answer });
  if (!k) return { problem, outcome };
  const key = `${k.item} @ ${tool.name}`;
  known.set(key, (known.get(key) ?? 0) + 1);
  return { problem: null, outcome };
}

/** As the REST sweep: the values that broke something before, at every text argument of every tool. */
/** The sweep stops here on a machine too loaded to finish it (the log says how far it got). */
const SWEEP_BUDGET_MS = Number(process.env.FUZZ_SWEEP_BUDGET_MS ?? 20_000);
const CORE_HOSTILE = ['', 'x\nDROP', 'x\u0000y', '9999999h', 'now-9999999d', 'a'.repeat(2_000)];

describe('MCP fuzz over tools/list', () => {
  it('every text argument of every tool meets every core hostile value', async () => {
    const known = new Map<string, number>();
    const findings: string[] = [];
    const started = Date.now();
    let calls = 0;
    for (const tool of tools) {
      const base = heldShort(tool.name, fc.sample(validOf(tool.inputSchema, hintsFor(tool.name)), { seed: SEED, numRuns: 1 })[0] as Record<string, unknown>);
      const required = Object.fromEntries(Object.entries(base).filter(([k]) => tool.inputSchema.required?.includes(k)));
      for (const [name, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
        if (schema.type !== 'string' || schema.enum) continue;
        for (const value of CORE_HOSTILE) {
          if (Date.now() - started > SWEEP_BUDGET_MS) break;
          const args = heldShort(tool.name, { ...required, [name]: value });
          calls++;
          const { problem } = await callChecked(tool, args, known);
          if (problem) findings.push(`${tool.name} ${name}=${shortly(value)}: ${problem}`);
        }
      }
    }
    console.log(
      `MCP core sweep: ${calls} calls${Date.now() - started > SWEEP_BUDGET_MS ? ' (stopped by FUZZ_SWEEP_BUDGET_MS)' : ''} in ${Date.now() - started} ms` +
        (known.size ? `; known defects (not failed):\n  ${[...known].map(([k, n]) => `${n}× ${k}`).join('\n  ')}` : ''),
    );
    expect(findings).toEqual([]);
  }, 120_000);
  it('every tool: a result (never a protocol error or a hang), no leaks, argument errors name the argument', async () => {
    expect(tools.length).toBeGreaterThan(30);
    const findings: Finding[] = [];
    const known = new Map<string, number>();
    const outcomes: Record<string, Record<string, number>> = {};
    const started = Date.now();
    let calls = 0;
    for (const [i, tool] of tools.entries()) {
      const seed = SEED ^ hash(`mcp ${tool.name}`);
      const left = BUDGET_MS - (Date.now() - started);
      const share = Math.max(500, left / (tools.length - i));
      const result = await fc.check(
        fc.asyncProperty(argsOf(tool.name, tool.inputSchema), async args => {
          calls++;
          const { problem, outcome } = await callChecked(tool, args, known);
          const tally = (outcomes[tool.name] ??= {});
          tally[outcome] = (tally[outcome] ?? 0) + 1;
          if (problem) findings.push({ tool: tool.name, problem, args: shortly(args) });
          return problem === null;
        }),
        { seed, numRuns: RUNS, endOnFailure: true, interruptAfterTimeLimit: share, markInterruptAsFailure: false },
      );
      if (result.failed && findings.at(-1)?.tool === tool.name)
        findings.at(-1)!.problem += ` [replay: FUZZ_SEED=${SEED} (tool seed ${seed}), path ${result.counterexamplePath}]`;
    }
    console.log(
      `MCP fuzz: seed ${SEED}, ${tools.length} tools, ${calls} calls in ${Date.now() - started} ms` +
        (known.size ? `; known defects (not failed):\n  ${[...known].map(([k, n]) => `${n}× ${k}`).join('\n  ')}` : ''),
    );
    if (findings.length > 0 || process.env.FUZZ_VERBOSE)
      console.log(Object.entries(outcomes).map(([t, o]) => `${t}: ${JSON.stringify(o)}`).join('\n'));
    expect(findings, `FUZZ_SEED=${SEED}\n${findings.map(f => `${f.tool}: ${f.problem}\n  args ${f.args}`).join('\n')}`).toEqual([]);
  }, 180_000);
});
