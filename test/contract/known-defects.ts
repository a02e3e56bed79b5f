/**
 * Defects the contract suites find that other engineers are fixing now (issue #15). A failure
 * matching one is counted and reported, not failed, so the suites stay green meanwhile and
 * catch everything else. Each entry names its issue item: delete the entry with the fix, and
 * the suite then guards it.
 */

export interface Observed {
  /** `GET /api/v1/fleet/series` (OpenAPI key) or `mcp query_telemetry` */
  op: string;
  /** what the suite saw: an HTTP status, or 'internal' for an MCP internal tool error */
  outcome: number | 'internal';
  /** the inputs sent (query parameters, path parameters, body or tool arguments) */
  input: Record<string, unknown>;
  /** the answer's text (body or tool error), when there is one */
  text?: string;
}

export interface KnownDefect {
  item: string;
  matches(o: Observed): boolean;
}

// Empty: every defect the suites found is fixed and guarded. Add an entry only while its fix is
// under way elsewhere, and delete it with the fix.
export const KNOWN_DEFECTS: KnownDefect[] = [];

export function knownDefect(o: Observed): KnownDefect | null {
  return KNOWN_DEFECTS.find(k => k.matches(o)) ?? null;
}
