import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { createJsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiConfig } from '../config.ts';

/**
 * OpenAPI 3.1 generated from the routes' zod schemas, served at /docs/json (and /docs/yaml),
 * with Swagger UI at /docs. Every route needs the bearer token unless it sets `security: []`
 * in its schema (health, metrics). Register before any route.
 */
export const DOCS_PREFIX = '/docs';

export const OPENAPI_TAGS = [
  { name: 'fleet', description: 'Fleet state and fleet-level series.' },
  { name: 'miners', description: 'Miners: list, detail and per-miner telemetry.' },
  {
    name: 'analytics',
    description:
      'Fleet analytics over a time window: underperformers, hot spots, efficiency, availability, period comparison.',
  },
  { name: 'energy', description: 'Profitability: revenue, power cost and margin from stored series and the hashprice and energy price.' },
  { name: 'events', description: 'Audit trail: status changes, errors, control actions, job steps.' },
  { name: 'health', description: 'Liveness, readiness and Prometheus metrics (no token needed).' },
];

export async function installSwagger(
  app: FastifyInstance,
  config: Pick<ApiConfig, 'API_PUBLIC_URL'>,
  version: string,
): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'bos-fleet API',
        version,
        description:
          'Telemetry, analytics and control for fleets of Braiins OS miners. Every /api/v1 route needs ' +
          '`Authorization: Bearer <JWT>` with the claims sub, tenant and roles (viewer < operator < admin) and ' +
          'answers only about the token\'s tenant. Errors are `{ "error": { "code", "message", "details" } }`.',
      },
      servers: [{ url: config.API_PUBLIC_URL }],
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
      security: [{ bearerAuth: [] }],
      tags: OPENAPI_TAGS,
    },
    transform: createJsonSchemaTransform({
      skipList: [
        DOCS_PREFIX,
        `${DOCS_PREFIX}/`,
        `${DOCS_PREFIX}/json`,
        `${DOCS_PREFIX}/yaml`,
        `${DOCS_PREFIX}/initOAuth`,
        `${DOCS_PREFIX}/uiConfig`,
        `${DOCS_PREFIX}/static/*`,
        `${DOCS_PREFIX}/*`,
      ],
    }),
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true, persistAuthorization: true },
  });
}
