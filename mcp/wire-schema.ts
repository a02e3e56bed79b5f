/**
 * The JSON Schemas tools/list sends, kept small: every tool definition is read by the model on
 * every turn, and the full zod conversion made the list 113 KB at admin. Validation is not
 * affected: the server still validates arguments and answers with the full zod schemas (and
 * answers a bad argument with what is expected); only the advertised JSON is cut.
 *
 *  - input: names, types, descriptions, enums, consts, defaults, numeric ranges and `required`
 *    stay (what the model needs to call the tool right); string lengths, item counts, regex
 *    patterns and the JSON Schema dialect go (the error for a bad value names what is expected).
 *  - output: the names of the answer's top-level fields (key names carry the units; the answer
 *    itself shows the shape). Looser than the answer, so a client that validates
 *    structuredContent against it accepts every answer; the server checks the full schema.
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

type Json = Record<string, unknown>;

const INPUT_DROPPED = new Set(['$schema', 'minLength', 'maxLength', 'minItems', 'maxItems', 'propertyNames', 'pattern', 'format']);

function compactInput(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(n => compactInput(n));
  if (node === null || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) {
    if (INPUT_DROPPED.has(k)) continue;
    // Unknown arguments are refused with the valid names; the schema need not say so.
    if (k === 'additionalProperties' && v === false) continue;
    if (k === 'properties' || k === '$defs') {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([p, s]) => [p, compactInput(s)]));
      continue;
    }
    out[k] = compactInput(v);
  }
  // An enum or a const says its type already.
  if ('enum' in out || 'const' in out) delete out.type;
  // "(default 5)" in the text repeats the schema's default.
  if ('default' in out && typeof out.description === 'string')
    out.description = out.description.replace(/\s*\(default [^)]*\)/, '').replace(/ default,/, ',');
  return out;
}

/** Smallest sub-schema worth a $ref (the reference itself costs ~30 bytes). */
const SHARE_MIN_BYTES = 200;

/**
 * A sub-schema that occurs twice or more in one tool (set_pools: `groups` items and `group`) is
 * written once under $defs and referenced; descriptions stay where they were.
 */
function shareRepeated(root: Json): Json {
  const bare = (n: Json): string => {
    const { description: _d, ...rest } = n;
    return JSON.stringify(rest);
  };
  const seen = new Map<string, number>();
  const walk = (n: unknown, visit: (n: Json) => void): void => {
    if (Array.isArray(n)) n.forEach(x => walk(x, visit));
    else if (n !== null && typeof n === 'object') {
      visit(n as Json);
      for (const v of Object.values(n as Json)) walk(v, visit);
    }
  };
  walk(root.properties, n => {
    const key = bare(n);
    if (key.length >= SHARE_MIN_BYTES && n.type === 'object') seen.set(key, (seen.get(key) ?? 0) + 1);
  });
  const shared = [...seen].filter(([, count]) => count > 1).map(([key]) => key);
  if (shared.length === 0) return root;
  const defs: Json = {};
  const replace = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(replace);
    if (n === null || typeof n !== 'object') return n;
    const i = shared.indexOf(bare(n as Json));
    if (i >= 0) {
      const name = `shared${i + 1}`;
      defs[name] = JSON.parse(shared[i]!) as Json;
      const d = (n as Json).description;
      return { ...(d !== undefined ? { description: d } : {}), $ref: `#/$defs/${name}` };
    }
    return Object.fromEntries(Object.entries(n as Json).map(([k, v]) => [k, replace(v)]));
  };
  return { ...root, properties: replace(root.properties), $defs: defs };
}

function compactOutput(schema: Json): Json {
  const properties: Json = {};
  for (const name of Object.keys((schema.properties ?? {}) as Json)) properties[name] = {};
  return { type: 'object', properties };
}

const TARGET = 'draft-2020-12';

export function inputJsonSchema(schema: z.ZodType): Json {
  return shareRepeated(compactInput(z.toJSONSchema(schema, { io: 'input', target: TARGET })) as Json);
}

export function outputJsonSchema(schema: z.ZodType): Json {
  return compactOutput(z.toJSONSchema(schema, { io: 'output', target: TARGET }) as Json);
}

/**
 * `schema` as the SDK sees it: zod's own validation, our compact JSON Schema. Computed once per
 * tool (tools/list is answered per request over HTTP).
 */
export function advertised<S extends z.ZodType>(schema: S, io: 'input' | 'output'): S & StandardSchemaWithJSON {
  let json: Json | undefined;
  const compact = (): Json => (json ??= io === 'input' ? inputJsonSchema(schema) : outputJsonSchema(schema));
  const std = schema['~standard'];
  const wrapped = {
    '~standard': {
      ...std,
      validate: std.validate.bind(std),
      jsonSchema: { input: compact, output: compact },
    },
  };
  return wrapped as unknown as S & StandardSchemaWithJSON;
}
