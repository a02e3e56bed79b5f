// AdvancedSettingsService: a few firmware settings as google.protobuf.Struct (camelCase Value
// fields, as protobufjs defines them), validated against a small JSON Schema.
import type {
  GetSettingsRequestOutput,
  GetSettingsResponseInput,
  GetSettingsSchemaResponseInput,
  ResetAllSettingsResponseInput,
  SetSettingsRequestOutput,
  SetSettingsResponseInput,
  StructInput,
  StructValue,
  StructValueInput,
} from '../../proto/types.ts';
import {
  ADVANCED_SETTINGS_SCHEMA,
  advancedSettingDefaults,
  type AdvancedSettingValue,
} from '../miner-config.ts';
import { invalidArgument } from '../rpc-error.ts';
import { unary, type ServiceHandlers } from './types.ts';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function structFromJson(obj: Record<string, Json>): StructInput {
  const fields: Record<string, StructValueInput> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = valueFromJson(v);
  return { fields };
}

function valueFromJson(v: Json): StructValueInput {
  if (v === null) return { nullValue: 'NULL_VALUE' };
  if (typeof v === 'boolean') return { boolValue: v };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(valueFromJson) } };
  return { structValue: structFromJson(v) };
}

export function jsonFromValue(v: StructValue): Json {
  switch (v.kind) {
    case 'boolValue':
      return v.boolValue ?? false;
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'listValue':
      return (v.listValue?.values ?? []).map(jsonFromValue);
    case 'structValue': {
      const out: Record<string, Json> = {};
      for (const [k, x] of Object.entries(v.structValue?.fields ?? {})) out[k] = jsonFromValue(x);
      return out;
    }
    default:
      return null;
  }
}

type SettingSchema = { type: 'boolean' | 'integer'; minimum?: number; maximum?: number };

function validate(key: string, value: Json): AdvancedSettingValue {
  const schema = (ADVANCED_SETTINGS_SCHEMA.properties as Record<string, SettingSchema>)[key];
  if (!schema) throw invalidArgument(`unknown setting '${key}'`);
  if (schema.type === 'boolean') {
    if (typeof value !== 'boolean') throw invalidArgument(`setting '${key}' must be a boolean`);
    return value;
  }
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw invalidArgument(`setting '${key}' must be an integer`);
  if (
    (schema.minimum !== undefined && value < schema.minimum) ||
    (schema.maximum !== undefined && value > schema.maximum)
  ) {
    throw invalidArgument(`setting '${key}' must be within ${schema.minimum}–${schema.maximum}`);
  }
  return value;
}

export const advancedSettingsHandlers: ServiceHandlers = {
  GetSettingsSchema: unary<unknown, GetSettingsSchemaResponseInput>(() => ({
    schema: structFromJson(JSON.parse(JSON.stringify(ADVANCED_SETTINGS_SCHEMA)) as Record<string, Json>),
  })),

  GetSettings: unary<GetSettingsRequestOutput, GetSettingsResponseInput>(({ miner, request }) => {
    const defaults = advancedSettingDefaults();
    const out: Record<string, Json> = {};
    for (const [k, v] of Object.entries(miner.advancedSettings))
      if (request.include_default || v !== defaults[k]) out[k] = v;
    return { settings: structFromJson(out) };
  }),

  // Atomic: every key is validated before anything changes; null resets a key to its default.
  SetSettings: unary<SetSettingsRequestOutput, SetSettingsResponseInput>(({ miner, request }) => {
    const defaults = advancedSettingDefaults();
    const next = { ...miner.advancedSettings };
    const applied: Record<string, Json> = {};
    for (const [key, raw] of Object.entries(request.settings?.fields ?? {})) {
      const value = jsonFromValue(raw);
      if (value === null) {
        if (!(key in defaults)) throw invalidArgument(`unknown setting '${key}'`);
        next[key] = defaults[key] as AdvancedSettingValue;
      } else {
        next[key] = validate(key, value);
      }
      applied[key] = next[key] as AdvancedSettingValue;
    }
    miner.advancedSettings = next;
    miner.changed();
    return { applied: structFromJson(applied) };
  }),

  ResetAllSettings: unary<unknown, ResetAllSettingsResponseInput>(({ miner }) => {
    miner.advancedSettings = advancedSettingDefaults();
    miner.changed();
    return { settings: structFromJson({ ...miner.advancedSettings }) };
  }),
};
