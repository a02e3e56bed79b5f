// The one place that loads the Braiins OS API protos (proto/bos/**), both for gRPC
// (@grpc/proto-loader + grpc-js) and as a raw protobufjs Root (descriptors, encode/decode).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';

import type { BosServiceName, BosServices } from './types.ts';

export type { BosServiceName, BosServices } from './types.ts';

/** Absolute path of the proto import root (`import "bos/v1/units.proto"` resolves against it). */
export const PROTO_ROOT: string = path.dirname(fileURLToPath(import.meta.url));

/** Every API file, relative to PROTO_ROOT (the same names the files use to import each other). */
export const PROTO_FILES: readonly string[] = Object.freeze([
  'bos/version.proto',
  'bos/v1/actions.proto',
  'bos/v1/advanced_settings.proto',
  'bos/v1/authentication.proto',
  'bos/v1/common.proto',
  'bos/v1/configuration.proto',
  'bos/v1/constraints.proto',
  'bos/v1/cooling.proto',
  'bos/v1/license.proto',
  'bos/v1/miner.proto',
  'bos/v1/network.proto',
  'bos/v1/performance.proto',
  'bos/v1/pool.proto',
  'bos/v1/units.proto',
  'bos/v1/upgrade.proto',
  'bos/v1/work.proto',
]);

/**
 * proto-loader options. proto/generate.ts derives the type generator's flags from this object,
 * so runtime objects and generated types always agree:
 * - keepCase: field names are the wire (snake_case) names: `bosminer_uptime_s`, `real_hashrate.last_1m`.
 * - longs: Number: every uint64 in this API (counters, uptimes, watts) stays far below 2^53.
 * - enums: String: enum values decode to their names, e.g. 'MINER_STATUS_NORMAL'.
 * - defaults: absent scalars decode to 0/''/false/first enum name, absent messages to null,
 *   absent repeated fields to []. proto3 `optional` fields and oneof members get NO default:
 *   they are simply missing from the decoded object when not set.
 * - oneofs: a virtual property named after the oneof holds the set member's name
 *   (e.g. `mode_state: 'power_target_mode_state'`); proto3 `optional` fields also get one
 *   (`_serial_number: 'serial_number'`) because they are synthetic oneofs.
 */
export const LOADER_OPTIONS = Object.freeze({
  keepCase: true,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
}) satisfies protoLoader.Options;

/** protobufjs `toObject` conversion options equivalent to LOADER_OPTIONS (for loadProtoRoot users). */
export const CONVERSION_OPTIONS: protobuf.IConversionOptions = Object.freeze({
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
});

/** Fully-qualified proto package names. */
export const BOS_PACKAGE = 'braiins.bos';
export const BOS_V1_PACKAGE = 'braiins.bos.v1';

let packageDefinition: protoLoader.PackageDefinition | undefined;
let grpcObject: grpc.GrpcObject | undefined;
let protoRoot: protobuf.Root | undefined;

/** The proto-loader PackageDefinition of all API files (memoised). */
export function loadBosPackageDefinition(): protoLoader.PackageDefinition {
  packageDefinition ??= protoLoader.loadSync([...PROTO_FILES], {
    ...LOADER_OPTIONS,
    includeDirs: [...LOADER_OPTIONS.includeDirs],
  });
  return packageDefinition;
}

/** The grpc-js object tree (`braiins.bos.v1.MinerService`, …) for all API files (memoised). */
export function loadBosPackage(): grpc.GrpcObject {
  grpcObject ??= grpc.loadPackageDefinition(loadBosPackageDefinition());
  return grpcObject;
}

/** Walks a dotted path (e.g. 'braiins.bos.v1.MinerService') in a grpc object tree. */
function lookup(obj: grpc.GrpcObject, dotted: string): unknown {
  let node: unknown = obj;
  for (const part of dotted.split('.')) {
    if (node === null || (typeof node !== 'object' && typeof node !== 'function')) return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

/** Returns the client constructor of a service by its fully-qualified name, or throws. */
export function serviceConstructor(fullName: string): grpc.ServiceClientConstructor {
  const ctor = lookup(loadBosPackage(), fullName);
  if (typeof ctor !== 'function' || !('service' in ctor)) {
    throw new Error(`proto: service ${fullName} not found in the loaded package`);
  }
  return ctor as grpc.ServiceClientConstructor;
}

/** Fully-qualified name of each service (the part of the method path before the method). */
export const BOS_SERVICE_FULL_NAMES: Readonly<Record<BosServiceName, string>> = Object.freeze({
  ApiVersionService: `${BOS_PACKAGE}.ApiVersionService`,
  AuthenticationService: `${BOS_V1_PACKAGE}.AuthenticationService`,
  MinerService: `${BOS_V1_PACKAGE}.MinerService`,
  CoolingService: `${BOS_V1_PACKAGE}.CoolingService`,
  PerformanceService: `${BOS_V1_PACKAGE}.PerformanceService`,
  PoolService: `${BOS_V1_PACKAGE}.PoolService`,
  ActionsService: `${BOS_V1_PACKAGE}.ActionsService`,
  ConfigurationService: `${BOS_V1_PACKAGE}.ConfigurationService`,
  NetworkService: `${BOS_V1_PACKAGE}.NetworkService`,
  UpgradeService: `${BOS_V1_PACKAGE}.UpgradeService`,
  LicenseService: `${BOS_V1_PACKAGE}.LicenseService`,
  AdvancedSettingsService: `${BOS_V1_PACKAGE}.AdvancedSettingsService`,
});

let services: BosServices | undefined;

/**
 * Client constructors of all 12 services (memoised), typed with the generated client and
 * definition types. `new MinerService(addr, creds)` makes a client; `MinerService.service` is the
 * ServiceDefinition for `grpc.Server#addService`.
 */
export function bosServices(): BosServices {
  if (!services) {
    const entries = Object.entries(BOS_SERVICE_FULL_NAMES).map(
      ([name, fullName]) => [name, serviceConstructor(fullName)] as const,
    );
    services = Object.freeze(Object.fromEntries(entries)) as unknown as BosServices;
  }
  return services;
}

/** The ServiceDefinition of one service (what `grpc.Server#addService` takes). */
export function serviceDefinition<N extends BosServiceName>(name: N): BosServices[N]['service'] {
  return bosServices()[name].service;
}

/**
 * A protobufjs Root with all API files loaded (memoised), field names kept as on the wire.
 * Imports resolve against PROTO_ROOT; google/protobuf/{wrappers,timestamp,struct}.proto come
 * from the definitions bundled with protobufjs (as they do for proto-loader).
 */
export function loadProtoRoot(): protobuf.Root {
  if (!protoRoot) {
    const root = new protobuf.Root();
    const fallback = root.resolvePath.bind(root);
    root.resolvePath = (origin: string, target: string): string | null => {
      if (path.isAbsolute(target)) return target;
      const candidate = path.join(PROTO_ROOT, target);
      return existsSync(candidate) ? candidate : fallback(origin, target);
    };
    root.loadSync([...PROTO_FILES], { keepCase: true });
    root.resolveAll();
    protoRoot = root;
  }
  return protoRoot;
}

/**
 * A message type by name: fully qualified ('braiins.bos.ApiVersion') or, for the v1 package,
 * short ('GetMinerStatsResponse'). Throws if unknown.
 */
export function messageType(name: string): protobuf.Type {
  const fullName = name.includes('.') ? name : `${BOS_V1_PACKAGE}.${name}`;
  return loadProtoRoot().lookupType(fullName);
}

/**
 * Encodes a plain object (wire field names, enum names or numbers) as the named message, e.g. to
 * pre-encode responses. Same conversion as grpc-js/proto-loader serialisation (`fromObject`):
 * lenient, unknown keys are ignored.
 */
export function encodeMessage(name: string, value: object): Uint8Array {
  const type = messageType(name);
  return type.encode(type.fromObject(value as Record<string, unknown>)).finish();
}

/**
 * Decodes bytes of the named message into a plain object shaped exactly like proto-loader output
 * (LOADER_OPTIONS). `T` is an unchecked convenience cast, e.g. `decodeMessage<Hashboard>('Hashboard', b)`.
 */
export function decodeMessage<T = Record<string, unknown>>(name: string, bytes: Uint8Array): T {
  const type = messageType(name);
  return type.toObject(type.decode(bytes), CONVERSION_OPTIONS) as T;
}

/** Name → number map of an enum, e.g. enumValues('MinerStatus').MINER_STATUS_NORMAL === 2. */
export function enumValues(name: string): Readonly<Record<string, number>> {
  const fullName = name.includes('.') ? name : `${BOS_V1_PACKAGE}.${name}`;
  return loadProtoRoot().lookupEnum(fullName).values;
}
