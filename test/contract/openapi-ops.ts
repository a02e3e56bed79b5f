/** The operations of the API's OpenAPI document (GET /docs/json), as the contract suites use them. */
import type { JsonSchema } from './schema-arbitrary.ts';

export interface Param {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: string;
  /** OpenAPI path, e.g. /api/v1/miners/{id} */
  path: string;
  key: string;
  params: Param[];
  /** the application/json body schema, if the route takes one */
  body: JsonSchema | null;
  /** a body of another media type (firmware upload) */
  rawBodyType: string | null;
  authenticated: boolean;
}

interface OpenApiDoc {
  security?: unknown[];
  paths: Record<string, Record<string, {
    parameters?: Param[];
    requestBody?: { content: Record<string, { schema?: JsonSchema }> };
    security?: unknown[];
  }>>;
}

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

export function operationsOf(doc: unknown): Operation[] {
  const d = doc as OpenApiDoc;
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(d.paths)) {
    for (const [m, op] of Object.entries(item)) {
      if (!METHODS.has(m)) continue;
      const content = op.requestBody?.content ?? {};
      const json = content['application/json']?.schema ?? null;
      const other = Object.keys(content).find(t => t !== 'application/json') ?? null;
      out.push({
        method: m.toUpperCase(),
        path,
        key: `${m.toUpperCase()} ${path}`,
        params: op.parameters ?? [],
        body: json,
        rawBodyType: json ? null : other,
        authenticated: !(Array.isArray(op.security) && op.security.length === 0),
      });
    }
  }
  return out;
}

/** The path with its {params} filled (each value percent-encoded unless `raw`). */
export function fillPath(path: string, values: Record<string, string>, raw = false): string {
  return path.replace(/\{([^}]+)\}/g, (_m, name: string) => {
    const v = values[name];
    if (v === undefined) throw new Error(`no value for path parameter {${name}} of ${path}`);
    return raw ? v : encodeURIComponent(v.toWellFormed());
  });
}
