import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { FleetError } from '../../../core/errors.ts';
import { requireRole } from '../../auth/authenticate.ts';
import {
  CredentialListSchema,
  CredentialNameParams,
  CredentialSchema,
  InventoryIdParams,
  InventoryListSchema,
  InventoryMinerSchema,
  Removed,
  ScanRequestSchema,
} from '../../../services/inventory/http-schemas.ts';
import {
  credentialsInputSchema,
  inventoryMinerInputSchema,
  scanRequestSchema,
  type InventoryService,
} from '../../../services/inventory/inventory-service.ts';
import { READ_ERRORS, errorResponses } from '../../schemas/common.ts';

export interface InventoryRouteDeps {
  services: { inventory: InventoryService };
}

const ERRORS = { ...READ_ERRORS, ...errorResponses(404, 409) };

/** Admin: miners added through the API, miner credentials (names and usernames only), discovery scans. */
export function inventoryRoutes(deps: InventoryRouteDeps): FastifyPluginAsyncZod {
  const { inventory } = deps.services;
  return async app => {
    app.addHook('onRequest', requireRole('admin'));

    app.get(
      '/inventory/miners',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Your miners as the collector knows them, plus API entries not yet picked up.',
          response: { 200: InventoryListSchema, ...ERRORS },
        },
      },
      async req => inventory.listMiners(req.caller),
    );

    app.get(
      '/inventory/miners/:id',
      {
        schema: {
          tags: ['inventory'],
          summary: 'One inventory entry.',
          params: InventoryIdParams,
          response: { 200: InventoryMinerSchema, ...ERRORS },
        },
      },
      async req => inventory.getMiner(req.caller, req.params.id),
    );

    app.post(
      '/inventory/miners',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Add a miner (the collector picks it up at once).',
          body: inventoryMinerInputSchema,
          response: { 201: InventoryMinerSchema, ...ERRORS },
        },
      },
      async (req, reply) => {
        reply.code(201);
        return inventory.addMiner(req.caller, req.body);
      },
    );

    app.put(
      '/inventory/miners/:id',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Replace a miner added through the API.',
          params: InventoryIdParams,
          body: inventoryMinerInputSchema,
          response: { 200: InventoryMinerSchema, ...ERRORS },
        },
      },
      async req => inventory.updateMiner(req.caller, req.params.id, req.body),
    );

    app.delete(
      '/inventory/miners/:id',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Remove a miner added through the API (and its last snapshot).',
          params: InventoryIdParams,
          response: { 200: Removed, ...ERRORS },
        },
      },
      async req => inventory.removeMiner(req.caller, req.params.id),
    );

    app.get(
      '/inventory/credentials',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Credential entries: names and usernames, never passwords.',
          response: { 200: CredentialListSchema, ...ERRORS },
        },
      },
      async req => {
        const credentials = await inventory.listCredentials(req.caller);
        return { items: credentials, total: credentials.length };
      },
    );

    app.get(
      '/inventory/credentials/:name',
      {
        schema: {
          tags: ['inventory'],
          summary: 'One credential entry (name and username).',
          params: CredentialNameParams,
          response: { 200: CredentialSchema, ...ERRORS },
        },
      },
      async req => {
        const c = (await inventory.listCredentials(req.caller)).find(x => x.name === req.params.name);
        if (!c) throw new FleetError('not_found', `no credentials named '${req.params.name}'`);
        return c;
      },
    );

    app.put(
      '/inventory/credentials/:name',
      {
        schema: {
          tags: ['inventory'],
          summary:
            'Set credentials (stored AES-GCM sealed; needs BOSFLEET_SECRET_KEY). The password is never returned.',
          params: CredentialNameParams,
          body: credentialsInputSchema,
          response: { 200: CredentialSchema, ...ERRORS },
        },
      },
      async req => inventory.putCredentials(req.caller, req.params.name, req.body),
    );

    app.delete(
      '/inventory/credentials/:name',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Remove credentials managed through the API.',
          params: CredentialNameParams,
          response: { 200: Removed, ...ERRORS },
        },
      },
      async req => inventory.removeCredentials(req.caller, req.params.name),
    );

    app.post(
      '/inventory/scans',
      {
        schema: {
          tags: ['inventory'],
          summary: 'Ask the collector to scan an IPv4 range (at most a /16) for miners.',
          body: scanRequestSchema,
          response: { 202: ScanRequestSchema, ...ERRORS },
        },
      },
      async (req, reply) => {
        reply.code(202);
        return inventory.requestScan(req.caller, req.body);
      },
    );
  };
}
