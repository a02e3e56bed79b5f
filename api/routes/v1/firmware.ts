import type { Readable } from 'node:stream';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FleetError } from '../../../core/errors.ts';
import { requireRole } from '../../auth/authenticate.ts';
import { controlRateLimit } from '../../plugins/rate-limit.ts';
import type { FirmwareStore } from '../../../services/rollouts/firmware-store.ts';
import {
  FirmwareListSchema,
  FirmwareShaParams,
  FirmwareUploadQuery,
  FirmwareUploadResult,
  RolloutPlanSchema,
} from '../../../services/rollouts/http-schemas.ts';
import { rolloutRequestSchema, type RolloutService } from '../../../services/rollouts/rollout-service.ts';
import { READ_ERRORS, errorResponses } from '../../schemas/common.ts';

export interface FirmwareRouteDeps {
  services: { firmware: FirmwareStore; rollouts: RolloutService };
}

/**
 * Firmware images (upload / delete: admin; list: operator) and rollouts (operator).
 * POST /firmware/images takes the image as the raw body (Content-Type: application/octet-stream)
 * with ?version=<firmware version it installs>&name=<file name>; it is streamed to
 * FIRMWARE_DIR while its SHA-256 is computed.
 */
export function firmwareRoutes(deps: FirmwareRouteDeps): FastifyPluginAsyncZod {
  const { firmware, rollouts } = deps.services;
  return async app => {
    // Hand the body over as a stream (this plugin's routes only); the store enforces the size limit.
    app.addContentTypeParser(
      'application/octet-stream',
      { bodyLimit: firmware.maxImageBytes },
      (_req, payload, done) => done(null, payload),
    );

    app.post(
      '/firmware/images',
      {
        onRequest: requireRole('admin'),
        bodyLimit: firmware.maxImageBytes,
        schema: {
          tags: ['firmware'],
          summary:
            'Upload a firmware image (raw body, application/octet-stream) with the version it installs.',
          querystring: FirmwareUploadQuery,
          consumes: ['application/octet-stream'],
          response: {
            200: FirmwareUploadResult,
            201: FirmwareUploadResult,
            ...READ_ERRORS,
            ...errorResponses(409, 413, 415),
          },
        },
      },
      async (req, reply) => {
        const type = String(req.headers['content-type'] ?? '')
          .split(';')[0]!
          .trim()
          .toLowerCase();
        if (type !== 'application/octet-stream')
          throw new FleetError(
            'invalid_argument',
            'send the image as the raw body with Content-Type: application/octet-stream',
          );
        const length = Number(req.headers['content-length'] ?? 0);
        if (length > firmware.maxImageBytes)
          throw new FleetError(
            'invalid_argument',
            `image is larger than the ${firmware.maxImageBytes} byte limit`,
          );
        const body = req.body as Readable | Buffer | undefined;
        if (!body)
          throw new FleetError('invalid_argument', 'the request has no body; send the firmware file');
        const { image, created } = await firmware.upload(req.caller, req.query, body);
        reply.code(created ? 201 : 200);
        return { image, created };
      },
    );

    app.get(
      '/firmware/images',
      {
        onRequest: requireRole('operator'),
        schema: {
          tags: ['firmware'],
          summary: 'Stored firmware images, newest first.',
          response: { 200: FirmwareListSchema, ...READ_ERRORS },
        },
      },
      async req => {
        const images = await firmware.list(req.caller);
        return { items: images, total: images.length };
      },
    );

    app.delete(
      '/firmware/images/:sha256',
      {
        onRequest: requireRole('admin'),
        schema: {
          tags: ['firmware'],
          summary: 'Delete a stored image.',
          params: FirmwareShaParams,
          response: { 200: z.object({ removed: z.literal(true) }), ...READ_ERRORS, ...errorResponses(404) },
        },
      },
      async req => {
        await firmware.remove(req.caller, req.params.sha256);
        return { removed: true as const };
      },
    );

    app.post(
      '/firmware/rollouts',
      {
        onRequest: requireRole('operator'),
        config: controlRateLimit,
        schema: {
          tags: ['firmware'],
          summary:
            'Roll an image out over a selector: canary wave, then waves with a health gate after each; halts and rolls back on failure. dry_run returns the plan.',
          body: rolloutRequestSchema,
          response: {
            200: RolloutPlanSchema,
            202: RolloutPlanSchema,
            ...READ_ERRORS,
            ...errorResponses(404, 409),
          },
        },
      },
      async (req, reply) => {
        const plan = await rollouts.start(req.caller, req.body);
        reply.code(plan.job ? 202 : 200);
        return plan;
      },
    );
  };
}
