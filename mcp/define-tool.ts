/**
 * The one way an MCP tool is defined and registered (practice 7 and 10 of the style anchors):
 *
 *  - `defineTool({ name, title, description, access, category, input, output, run })` checks
 *    the definition at start-up (name shape, a short description, a strict input object whose
 *    every field is described, an object output) and throws on a broken one;
 *  - `access` (read | control | admin) decides the behaviour hints and the role a caller needs
 *    (viewer | operator | admin). Which tools are registered at all is decided by server.ts
 *    (role, read-only, categories); the role check inside the handler is a second line of defence;
 *  - `run(args, ctx)` returns `{ structured, summary }`: the structured answer (checked against
 *    the output schema) and a short text summary for the model;
 *  - errors are mapped here, once: a FleetError becomes an `isError` result whose message says
 *    what to change (an unknown miner id gets close matches; REST hints become tool names);
 *    anything else is logged in full and answered with a generic message, so raw gRPC, Redis or
 *    InfluxDB text never reaches the model.
 */
import type {
  CallToolResult,
  McpServer,
  ServerContext,
  ToolAnnotations,
  ToolCallback,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { FleetError, isFleetError } from '../core/errors.ts';
import type { Logger } from '../runtime/logger.ts';
import type { ApiInfra, Caller, Role } from '../services/context.ts';
import { hasRole } from '../services/context.ts';
import type { ControlPlane } from '../services/control/index.ts';
import type { FleetQuery } from '../services/query/fleet-query.ts';
import type { ProfitabilityService } from '../services/energy/profitability-service.ts';
import type { MinerLookup } from './lookup.ts';
import type { McpMetrics } from './metrics.ts';
import { advertised } from './wire-schema.ts';

export const ACCESS_LEVELS = ['read', 'control', 'admin'] as const;
export type Access = (typeof ACCESS_LEVELS)[number];

/** Tool categories; each can be turned off (MCP_TOOLS / --tools). */
export const TOOL_CATEGORIES = ['fleet', 'miners', 'telemetry', 'analytics', 'control', 'jobs', 'admin'] as const;
export type ToolCategory = (typeof TOOL_CATEGORIES)[number];

/** The role a caller needs for each access level. */
export const ROLE_FOR_ACCESS: Record<Access, Role> = { read: 'viewer', control: 'operator', admin: 'admin' };

/** What every tool is built on: the API's services, shared by both transports. */
export interface McpDeps {
  fleetQuery: FleetQuery;
  plane: ControlPlane;
  infra: ApiInfra;
  /** the API's profitability service (its hashprice feed poller); without it one is built from infra.config */
  profitability?: ProfitabilityService | undefined;
}

/** Per-server environment handed to every tool (one per caller). */
export interface ToolEnv {
  deps: McpDeps;
  caller: Caller;
  log: Logger;
  lookup: MinerLookup;
  metrics?: McpMetrics | undefined;
}

export interface ToolContext {
  caller: Caller;
  deps: McpDeps;
  log: Logger;
  lookup: MinerLookup;
  /** Aborted when the client cancels the call (or drops the connection). */
  signal: AbortSignal;
  /** MCP progress notification; a no-op when the request carried no progressToken. */
  progress(progress: number, total?: number, message?: string): Promise<void>;
}

export interface ToolAnswer<O> {
  structured: O;
  /** One or two sentences with the key figures; the structured answer has the rest. */
  summary: string;
}

export interface ToolDefinition<I extends z.ZodObject, O extends z.ZodObject> {
  /** snake_case verb_noun */
  name: string;
  title: string;
  /** 1-2 sentences: when to use it and what it returns. */
  description: string;
  access: Access;
  category: ToolCategory;
  /** a z.strictObject whose fields all carry .describe() */
  input: I;
  output: O;
  /** Repeating the call changes nothing more (default: true for read tools, false otherwise). */
  idempotent?: boolean;
  /** Talks to miners live rather than reading stored data (openWorldHint). */
  live?: boolean;
  run(args: z.output<I>, ctx: ToolContext): Promise<ToolAnswer<z.output<O>>>;
}

export interface McpTool {
  readonly name: string;
  readonly access: Access;
  readonly category: ToolCategory;
  readonly title: string;
  readonly description: string;
  readonly annotations: ToolAnnotations;
  /** the input schema as registered (strict; unknown arguments get the valid names) */
  readonly input: z.ZodObject;
  readonly output: z.ZodObject;
  register(server: McpServer, env: ToolEnv): void;
}

const NAME_RE = /^[a-z][a-z0-9_]{2,63}$/;

/** A zod schema's `.describe()` text, looking through optional/default/nullable wrappers. */
function describedText(schema: z.ZodType): string | undefined {
  let s: z.ZodType | undefined = schema;
  for (let i = 0; s && i < 6; i++) {
    if (s.description) return s.description;
    const inner: unknown = (s as unknown as { _zod: { def: { innerType?: unknown } } })._zod.def.innerType;
    s = inner as z.ZodType | undefined;
  }
  return undefined;
}

function checkDefinition(def: ToolDefinition<z.ZodObject, z.ZodObject>): void {
  const where = `MCP tool ${def.name}`;
  if (!NAME_RE.test(def.name)) throw new Error(`${where}: name must be snake_case verb_noun`);
  const sentences = def.description.split(/(?<=[.!?])\s+/).filter(Boolean);
  if (sentences.length === 0 || sentences.length > 3 || def.description.length > 400)
    throw new Error(`${where}: description must be 1-2 sentences (at most 400 characters)`);
  const inDef = (def.input as unknown as { _zod: { def: { type: string; catchall?: { _zod: { def: { type: string } } } } } })
    ._zod.def;
  if (inDef.type !== 'object' || inDef.catchall?._zod.def.type !== 'never')
    throw new Error(`${where}: input must be a z.strictObject (unknown arguments are rejected)`);
  for (const [key, field] of Object.entries(def.input.shape)) {
    if (!describedText(field as z.ZodType)) throw new Error(`${where}: input field '${key}' has no .describe()`);
  }
  const outDef = (def.output as unknown as { _zod: { def: { type: string } } })._zod.def;
  if (outDef.type !== 'object') throw new Error(`${where}: output must be a zod object`);
}

function annotationsOf(def: ToolDefinition<z.ZodObject, z.ZodObject>): ToolAnnotations {
  const read = def.access === 'read';
  return {
    title: def.title,
    readOnlyHint: read,
    destructiveHint: !read,
    idempotentHint: def.idempotent ?? read,
    openWorldHint: def.live ?? !read,
  };
}

/**
 * The hints as sent: only those that differ from the spec's defaults (readOnly false,
 * destructive true, idempotent false, openWorld true), which a client assumes when a hint is
 * absent; the title is the tool's own (not repeated here). Same meaning, fewer bytes per tool.
 */
function wireHints(a: ToolAnnotations): ToolAnnotations {
  const out: ToolAnnotations = {};
  if (a.readOnlyHint) out.readOnlyHint = true;
  else if (a.destructiveHint === false) out.destructiveHint = false;
  if (a.idempotentHint) out.idempotentHint = true;
  if (a.openWorldHint === false) out.openWorldHint = false;
  return out;
}

/** Messages of the services name REST routes; over MCP the tool to use is the better hint. */
const REST_HINTS: [RegExp, string][] = [
  [/GET \/api\/v1\/miners\/[^\s)]+/g, 'get_miner'],
  [/GET \/api\/v1\/miners\b[^;,.)]*/g, 'list_miners lists your miners'],
  [/GET \/api\/v1\/jobs\b[^;,.]*/g, 'list_jobs lists your jobs'],
  [/GET \/api\/v1\/schedules\b[^;,.]*/g, 'list_power_schedules lists yours'],
  [/GET \/api\/v1\/firmware\/images\b[^;,.]*/g, 'start_firmware_rollout with an unknown image lists the stored images'],
  [/POST \/api\/v1\/inventory\/miners\b[^;,.]*/g, 'register_miner adds it'],
  [/analytics\/availability/g, 'availability_report'],
];

export function mcpMessage(message: string): string {
  let m = message;
  for (const [re, to] of REST_HINTS) m = m.replace(re, to);
  return m;
}

/** Internal addresses (`http://influx:8086`, `redis://…`) stay in the log. */
function withoutAddresses(message: string): string {
  return message
    .replace(/\s+at\s+[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi, '')
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/[^\s)]+/gi, '(address hidden)');
}

function errorResult(code: string, message: string): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: `${code}: ${message}` }] };
}

/** Unknown miner: the message names close matches and the tool that lists ids. */
async function unknownMinerMessage(env: ToolEnv, id: string): Promise<string> {
  const close = await env.lookup.suggest(env.caller, id).catch(() => []);
  const hint =
    close.length > 0
      ? `did you mean ${close.map(c => `'${c.id}'${c.hostname ? ` (${c.hostname})` : ''}`).join(', ')}? `
      : '';
  return `unknown miner '${id}'; ${hint}list_miners lists your miners (filter with q=part of an id, hostname or IP)`;
}

/** FleetError or anything else -> the isError result the model reads. */
export async function toToolError(err: unknown, env: ToolEnv, tool: string): Promise<CallToolResult> {
  if (isFleetError(err)) {
    if (err.code === 'internal') {
      env.log.error({ err, tool, details: err.details }, 'MCP tool failed');
      return errorResult('internal', 'internal error while running the tool; it has been logged');
    }
    if (err.code === 'not_found' && typeof err.details?.miner === 'string' && /unknown miner/.test(err.message)) {
      return errorResult('not_found', await unknownMinerMessage(env, err.details.miner));
    }
    if (err.code === 'unavailable') {
      env.log.warn({ err: err.message, tool }, 'MCP tool: a dependency is unavailable');
      return errorResult('unavailable', `${withoutAddresses(err.message)}; try again shortly`);
    }
    return errorResult(err.code, mcpMessage(err.message));
  }
  if (err instanceof DOMException && err.name === 'AbortError') {
    return errorResult('cancelled', 'the call was cancelled');
  }
  env.log.error({ err, tool }, 'MCP tool failed');
  return errorResult('internal', 'internal error while running the tool; it has been logged');
}

function progressReporter(sdk: ServerContext): ToolContext['progress'] {
  const token = sdk.mcpReq._meta?.progressToken;
  let last = -Infinity;
  return async (progress, total, message) => {
    // The spec wants progress to increase with every notification.
    if (token === undefined || !(progress > last)) return;
    last = progress;
    await sdk.mcpReq
      .notify({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress,
          ...(total !== undefined ? { total } : {}),
          ...(message ? { message } : {}),
        },
      })
      .catch(() => undefined);
  };
}

/** Define a tool; a broken definition throws here, at start-up, never when a user calls it. */
export function defineTool<I extends z.ZodObject, O extends z.ZodObject>(def: ToolDefinition<I, O>): McpTool {
  const d = def as unknown as ToolDefinition<z.ZodObject, z.ZodObject>;
  checkDefinition(d);
  const annotations = annotationsOf(d);
  // Same fields, but a misspelt argument is answered with the valid names: silently dropping it
  // would make the tool answer a different question.
  const valid = Object.keys(def.input.shape);
  const input = z.strictObject(def.input.shape, {
    error: iss =>
      iss.code === 'unrecognized_keys'
        ? `unknown argument${iss.keys.length > 1 ? 's' : ''} ${iss.keys.map(k => `'${k}'`).join(', ')}; ${def.name} takes ${valid.join(', ') || 'no arguments'}`
        : undefined,
  });
  const role = ROLE_FOR_ACCESS[def.access];
  // What tools/list sends: compact JSON Schemas (mcp/wire-schema.ts), and the title once (it is
  // the tool's own title; repeating it in the annotations costs every tool its length again).
  const wireInput = advertised(input, 'input');
  const wireOutput = advertised(def.output, 'output');
  const wireAnnotations = wireHints(annotations);
  return {
    name: def.name,
    access: def.access,
    category: def.category,
    title: def.title,
    description: def.description,
    annotations,
    input,
    output: def.output,
    register(server, env) {
      server.registerTool(
        def.name,
        {
          title: def.title,
          description: def.description,
          inputSchema: wireInput as z.ZodObject,
          outputSchema: wireOutput as z.ZodObject,
          annotations: wireAnnotations,
        },
        (async (args: unknown, sdk: ServerContext): Promise<CallToolResult> => {
          const started = performance.now();
          let outcome = 'ok';
          try {
            if (!hasRole(env.caller, role)) {
              outcome = 'forbidden';
              return errorResult(
                'forbidden',
                `${def.name} needs the ${role} role; you have ${env.caller.roles.join(', ') || 'no role'}`,
              );
            }
            const ctx: ToolContext = {
              caller: env.caller,
              deps: env.deps,
              log: env.log,
              lookup: env.lookup,
              signal: sdk.mcpReq.signal,
              progress: progressReporter(sdk),
            };
            const answer = await def.run(args as z.output<I>, ctx);
            const checked = def.output.safeParse(answer.structured);
            if (!checked.success) {
              outcome = 'error';
              env.log.error(
                { tool: def.name, issues: checked.error.issues.slice(0, 5) },
                'MCP tool answer does not match its output schema',
              );
              return errorResult('internal', 'internal error while running the tool; it has been logged');
            }
            const structured = checked.data as Record<string, unknown>;
            // Service hints name REST routes; the model needs tool names.
            if (typeof structured.hint === 'string') structured.hint = mcpMessage(structured.hint);
            return {
              content: [{ type: 'text', text: mcpMessage(answer.summary) }],
              structuredContent: structured,
            };
          } catch (err) {
            outcome = isFleetError(err) ? err.code : 'error';
            return await toToolError(err, env, def.name);
          } finally {
            env.metrics?.observe(def.name, outcome, (performance.now() - started) / 1_000);
          }
        }) as unknown as ToolCallback<z.ZodObject>,
      );
    },
  };
}

/** invalid_argument with a field name, for checks zod cannot express (exactly one of …). */
export function badArgument(field: string, message: string): FleetError {
  return new FleetError('invalid_argument', `${field}: ${message}`, { details: { field } });
}
