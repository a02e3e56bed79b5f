/**
 * fast-check arbitraries from the JSON Schemas the API publishes (OpenAPI parameters and bodies,
 * MCP tools' inputSchema): mostly values the schema allows, so calls get past validation and
 * reach the services, mixed with hostile values, wrong types, missing required and extra fields,
 * so validation itself is exercised.
 */
import fc from 'fast-check';
import { hostileJson, hostileText } from './hostile.ts';

export interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  maxItems?: number;
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  propertyNames?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  description?: string;
}

/** Values a field of this name most likely wants, beyond what its schema says (ids, times, durations). */
export interface Hints {
  /** ids that exist (the caller's own and another tenant's) */
  ids: readonly string[];
  sites: readonly string[];
  /** values for other fields by name (e.g. a firmware image the caller owns) */
  extra?: Record<string, readonly unknown[]>;
}

const TIMES = ['now', 'now-1h', 'now-15m', '2026-01-01T00:00:00Z', new Date(Date.now() - 3_600_000).toISOString(), '1h', '-2h'];
const DURATIONS = ['1m', '5m', '1h', '24h', '7d', '30s'];

function hinted(name: string, h: Hints): fc.Arbitrary<unknown> | null {
  const n = name.toLowerCase();
  const extra = h.extra?.[name];
  if (extra && extra.length > 0) return fc.constantFrom(...extra);
  if (n === 'cron' || n === 'end_cron') return fc.constantFrom('0 3 * * *', '*/15 * * * *', '0 17 * * 1-5');
  if (n === 'cidr') return fc.constantFrom('10.250.0.0/30', '192.0.2.0/29');
  if (n === 'timezone') return fc.constantFrom('UTC', 'Europe/Prague');
  if (n === 'from' || n === 'to' || n.endsWith('_from') || n.endsWith('_to') || n === 'after') return fc.constantFrom(...TIMES);
  if (n === 'step' || n === 'window' || n === 'duration') return fc.constantFrom(...DURATIONS);
  if (n === 'miner' || n === 'id' || n === 'miners' || n === 'ids') return fc.constantFrom(...h.ids);
  if (n === 'site') return fc.constantFrom(...h.sites);
  return null;
}

function typesOf(s: JsonSchema): string[] {
  if (Array.isArray(s.type)) return s.type;
  if (s.type) return [s.type];
  if (s.properties) return ['object'];
  return [];
}

/** A value the schema accepts (as far as generation goes: patterns via stringMatching, ranges, enums). */
export function validOf(s: JsonSchema, h: Hints, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (s.const !== undefined) return fc.constant(s.const);
  if (s.enum && s.enum.length > 0) return fc.constantFrom(...s.enum);
  const alts = s.anyOf ?? s.oneOf;
  if (alts && alts.length > 0) return fc.oneof(...alts.map(a => validOf(a, h, name, depth + 1)));
  if (s.allOf && s.allOf.length > 0) return validOf(Object.assign({}, ...s.allOf) as JsonSchema, h, name, depth + 1);
  const types = typesOf(s);
  const t = types.find(x => x !== 'null') ?? (types.includes('null') ? 'null' : 'string');
  const hint = hinted(name, h);
  switch (t) {
    case 'null':
      return fc.constant(null);
    case 'boolean':
      return fc.boolean();
    case 'integer': {
      const min = Math.ceil(Math.max(s.minimum ?? (s.exclusiveMinimum ?? -1_000_001) + 1, -1_000_000));
      const max = Math.floor(Math.min(s.maximum ?? (s.exclusiveMaximum ?? 1_000_001) - 1, 1_000_000));
      return fc.integer({ min: Math.min(min, max), max });
    }
    case 'number': {
      const min = Math.max(s.minimum ?? s.exclusiveMinimum ?? -1e6, -1e6);
      const max = Math.min(s.maximum ?? s.exclusiveMaximum ?? 1e6, 1e6);
      return fc.double({ min, max, noNaN: true, noDefaultInfinity: true, minExcluded: s.exclusiveMinimum !== undefined });
    }
    case 'array': {
      if (hint && (name === 'ids' || name === 'miners')) return fc.uniqueArray(fc.constantFrom(...h.ids), { minLength: 1, maxLength: 3 });
      const item = s.items ?? {};
      const minLength = Math.min(s.minItems ?? 0, 3);
      return fc.array(validOf(item, h, name, depth + 1), { minLength, maxLength: Math.max(minLength, Math.min(s.maxItems ?? 3, 3)) });
    }
    case 'object': {
      if (depth > 4) return fc.constant({});
      const props = s.properties ?? {};
      const required = new Set(s.required ?? []);
      const entries = Object.entries(props);
      if (entries.length === 0) {
        if (s.additionalProperties && typeof s.additionalProperties === 'object')
          return fc.dictionary(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), validOf(s.additionalProperties, h, '', depth + 1), { maxKeys: 2 });
        return fc.constant({});
      }
      // Optional fields in about a quarter of the values: fields that exclude each other
      // (selector or id, watt or percent) then rarely meet, and calls get past validation.
      return fc
        .tuple(
          ...entries.map(([k, v]) => {
            const field = validOf(v, h, k, depth + 1).map(x => [k, x] as const);
            return required.has(k) ? field : fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: field });
          }),
        )
        .map(pairs => Object.fromEntries(pairs.filter(x => x !== null)));
    }
    default: {
      if (hint) return hint;
      if (s.format === 'uuid') return fc.uuid();
      if (s.format === 'date-time') return fc.constantFrom(...TIMES.filter(x => x.includes('T')));
      if (s.pattern) {
        try {
          return fc.stringMatching(new RegExp(s.pattern)).filter(x => x.length <= (s.maxLength ?? 256));
        } catch {
          return fc.string({ maxLength: 16 });
        }
      }
      const minLength = s.minLength ?? 0;
      return fc.string({ minLength, maxLength: Math.max(minLength, Math.min(s.maxLength ?? 24, 24)) });
    }
  }
}

/** Anything at all for a field: usually valid, sometimes hostile (wrong type, hostile text). */
export function fuzzOf(s: JsonSchema, h: Hints, name = '', depth = 0): fc.Arbitrary<unknown> {
  const types = typesOf(s);
  if (types.includes('object') && s.properties && depth <= 3) {
    const entries = Object.entries(s.properties);
    const required = new Set(s.required ?? []);
    const obj = fc
      .record(Object.fromEntries(entries.map(([k, v]) => [k, fuzzOf(v, h, k, depth + 1)])), {
        requiredKeys: entries.map(([k]) => k).filter(k => required.has(k)),
      })
      .chain(o =>
        fc.oneof(
          { weight: 6, arbitrary: fc.constant(o) },
          // an unknown field beside the real ones
          { weight: 1, arbitrary: hostileJson().map(v => ({ ...o, ['x_' + 'unknown']: v })) },
          // a required field missing
          {
            weight: 1,
            arbitrary: fc.constant(Object.fromEntries(Object.entries(o).filter(([k]) => !required.has(k) || k !== [...required][0]))),
          },
        ),
      );
    return fc.oneof({ weight: 8, arbitrary: obj }, { weight: 1, arbitrary: hostileJson() });
  }
  if (types.includes('array') && s.items && depth <= 3) {
    const arr = fc.array(fuzzOf(s.items, h, name, depth + 1), { maxLength: 3 });
    return fc.oneof({ weight: 5, arbitrary: validOf(s, h, name, depth) }, { weight: 2, arbitrary: arr }, { weight: 1, arbitrary: hostileJson() });
  }
  return fc.oneof({ weight: 5, arbitrary: validOf(s, h, name, depth) }, { weight: 2, arbitrary: hostileJson() });
}

/** A query-string or path text for a parameter: valid (as text) or hostile. */
export function fuzzText(s: JsonSchema, h: Hints, name: string): fc.Arbitrary<string> {
  const valid = validOf(s, h, name).map(v => (typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : JSON.stringify(v)));
  return fc.oneof({ weight: 3, arbitrary: valid }, { weight: 2, arbitrary: hostileText() });
}
