import { readFile, stat } from 'node:fs/promises';
import { isSeq, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import {
  inventoryFileSchema,
  inventoryMinerSchema,
  inventoryScanSchema,
  type CredentialRef,
  type InventoryMiner,
  type InventoryScanEntry,
} from './schema.ts';

export interface InventoryProblem {
  /** e.g. `miners[3] (line 14)` */
  where: string;
  message: string;
}

export interface LoadedInventoryFile {
  miners: InventoryMiner[];
  scans: (InventoryScanEntry & { tenant: string; site: string; credentials: string; port: number })[];
  credentials: Record<string, CredentialRef>;
  problems: InventoryProblem[];
}

function issueText(err: z.ZodError): string {
  return err.issues.map(i => `${i.path.length ? i.path.join('.') + ': ' : ''}${i.message}`).join('; ');
}

/**
 * Parse an inventory document (YAML or JSON). A malformed entry is reported with its index
 * and line and skipped; the rest is used. A broken document as a whole throws.
 */
export function parseInventory(text: string, source = 'inventory'): LoadedInventoryFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) throw new Error(`${source}: not valid YAML/JSON: ${doc.errors[0]!.message}`);
  const top = inventoryFileSchema.safeParse(doc.toJS() ?? {});
  if (!top.success) throw new Error(`${source}: ${issueText(top.error)}`);
  const file = top.data;
  const problems: InventoryProblem[] = [];
  const lineOf = (key: 'miners' | 'scans', i: number): string => {
    const seq = doc.get(key, true);
    const node = isSeq(seq) ? seq.items[i] : undefined;
    const offset = (node as { range?: [number, number, number] } | undefined)?.range?.[0];
    return offset === undefined ? `${key}[${i}]` : `${key}[${i}] (line ${lineCounter.linePos(offset).line})`;
  };

  const seen = new Set<string>();
  const miners: InventoryMiner[] = [];
  file.miners.forEach((raw, i) => {
    const parsed = inventoryMinerSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push({ where: lineOf('miners', i), message: issueText(parsed.error) });
      return;
    }
    const e = parsed.data;
    const site = e.site ?? file.defaults.site;
    const siteCfg = file.sites[site];
    const port = e.port ?? file.defaults.port;
    const id = e.id ?? `${e.address}:${port}`;
    if (seen.has(id)) {
      problems.push({ where: lineOf('miners', i), message: `duplicate miner id '${id}'` });
      return;
    }
    seen.add(id);
    miners.push({
      id,
      host: e.address,
      port,
      tenant: e.tenant ?? siteCfg?.tenant ?? file.defaults.tenant,
      site,
      credentials: e.credentials ?? siteCfg?.credentials ?? file.defaults.credentials,
      labels: e.labels,
      source: 'file',
      ...(siteCfg?.poll_interval_ms ? { poll_interval_ms: siteCfg.poll_interval_ms } : {}),
    });
  });

  const scans: LoadedInventoryFile['scans'] = [];
  file.scans.forEach((raw, i) => {
    const parsed = inventoryScanSchema.safeParse(raw);
    if (!parsed.success) {
      problems.push({ where: lineOf('scans', i), message: issueText(parsed.error) });
      return;
    }
    const s = parsed.data;
    const site = s.site ?? file.defaults.site;
    scans.push({
      ...s,
      site,
      tenant: s.tenant ?? file.sites[site]?.tenant ?? file.defaults.tenant,
      credentials: s.credentials ?? file.sites[site]?.credentials ?? file.defaults.credentials,
      port: s.port ?? file.defaults.port,
    });
  });
  return { miners, scans, credentials: file.credentials, problems };
}

export async function loadInventoryFile(path: string): Promise<LoadedInventoryFile & { mtimeMs: number }> {
  const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  return { ...parseInventory(text, path), mtimeMs: st.mtimeMs };
}

export async function fileMtime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}
