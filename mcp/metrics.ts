/**
 * Self-metrics of the MCP server: one counter and one histogram per tool call, registered on
 * the API's prom-client registry when served over HTTP (the stdio leg has no /metrics).
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export interface McpMetrics {
  observe(tool: string, outcome: string, seconds: number): void;
}

export function createMcpMetrics(registry: Registry): McpMetrics {
  const existing = registry.getSingleMetric('bosfleet_mcp_tool_calls_total') as Counter<'tool' | 'outcome'> | undefined;
  const calls =
    existing ??
    new Counter({
      name: 'bosfleet_mcp_tool_calls_total',
      help: 'MCP tool calls by tool and outcome (ok, or the error code).',
      labelNames: ['tool', 'outcome'] as const,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric('bosfleet_mcp_tool_duration_seconds') as Histogram<'tool'> | undefined) ??
    new Histogram({
      name: 'bosfleet_mcp_tool_duration_seconds',
      help: 'Duration of MCP tool calls.',
      labelNames: ['tool'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120],
      registers: [registry],
    });
  return {
    observe(tool, outcome, seconds) {
      calls.inc({ tool, outcome });
      duration.observe({ tool }, seconds);
    },
  };
}
