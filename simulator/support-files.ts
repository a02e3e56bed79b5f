// Plausible log text for MinerService.GetLog and a small support archive (ZIP or tar.gz) for
// GetSupportArchive. Contents are generated from the miner's state; nothing is read from disk.
import { crc32, gzipSync } from 'node:zlib';

import type { LogType } from '../proto/types.ts';
import { activeErrors } from './miner-errors.ts';
import { hash4 } from './random.ts';
import type { MinerView, VirtualMiner } from './virtual-miner.ts';

function stamp(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
}

/** Log text for a log type: ~`lines` lines ending at `now`. */
export function logText(
  miner: VirtualMiner,
  view: MinerView,
  logType: LogType,
  now: number,
  lines = 240,
): string {
  const out: string[] = [];
  const start = now - lines * 15_000;
  const host = miner.network.hostname;
  const errors = activeErrors(miner, view, now);
  for (let i = 0; i < lines; i++) {
    const t = start + i * 15_000 + (hash4(miner.seed, miner.index, i) % 9_000);
    const board = miner.spec.boardIds[i % miner.spec.boardIds.length] ?? '1';
    const b = view.boards[i % view.boards.length];
    switch (logType) {
      case 'LOG_TYPE_DMESG':
        out.push(
          `[${((t - (now - view.systemUptimeS * 1000)) / 1000).toFixed(6).padStart(12)}] ${i % 7 === 0 ? 'eth0: link up, 1000Mbps, full-duplex' : `i2c i2c-0: hashboard ${board}: PIC heartbeat ok`}`,
        );
        break;
      case 'LOG_TYPE_SYSLOG':
        out.push(
          `${stamp(t)} ${host} ${i % 5 === 0 ? 'dropbear[812]: Child connection from 10.0.0.2:51544' : `boser[${900 + (i % 3)}]: grpc request served`}`,
        );
        break;
      case 'LOG_TYPE_BOSER':
        out.push(
          `${stamp(t)} INFO boser::api: ${['GetMinerStats', 'GetHashboards', 'GetCoolingState', 'GetPoolGroups'][i % 4]} ok`,
        );
        break;
      case 'LOG_TYPE_MONITOR':
        out.push(
          `${stamp(t)} INFO monitor: temp chip=${(b?.chipTempC ?? 0).toFixed(1)}C board=${(b?.boardTempC ?? 0).toFixed(1)}C fans=${view.fans.map(f => f.rpm).join('/')}rpm power=${Math.round(view.powerW)}W`,
        );
        break;
      case 'LOG_TYPE_ERRORS': {
        const e = errors[i % Math.max(1, errors.length)];
        if (e) out.push(`${stamp(Math.max(t, e.atMs))} ERROR ${e.codes[0]?.code ?? 'ERROR'}: ${e.message}`);
        else if (i === lines - 1) out.push(`${stamp(now)} INFO no active errors`);
        break;
      }
      default:
        out.push(
          `${stamp(t)} INFO bosminer::hashchain: chain ${board}: ${((b?.realGhs[3] ?? 0) / 1000).toFixed(2)} TH/s, ` +
            `freq ${Math.round((b?.frequencyHz ?? 0) / 1e6)} MHz, ${(b?.voltageV ?? 0).toFixed(2)} V, chip ${(b?.chipTempC ?? 0).toFixed(1)} C`,
        );
        if (i % 20 === 0)
          out.push(
            `${stamp(t + 1)} INFO bosminer::stratum: accepted share (diff ${miner.poolGroups[0]?.pools[0]?.lastDifficulty ?? 0})`,
          );
    }
  }
  return `${out.join('\n')}\n`;
}

export interface ArchiveFile {
  name: string;
  data: Buffer;
}

function dosDateTime(ms: number): { time: number; date: number } {
  const d = new Date(ms);
  return {
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
    date: ((d.getUTCFullYear() - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
  };
}

/** A ZIP archive with stored (uncompressed) entries. */
export function zipArchive(files: readonly ArchiveFile[], mtimeMs: number): Buffer {
  const { time, date } = dosDateTime(mtimeMs);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0, 6);
    local.writeUInt16LE(0, 8);
    local.writeUInt16LE(time, 10);
    local.writeUInt16LE(date, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(0, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0, 8);
    central.writeUInt16LE(0, 10);
    central.writeUInt16LE(time, 12);
    central.writeUInt16LE(date, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, f.data);
    centrals.push(central, name);
    offset += local.length + name.length + f.data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

/** A gzip-compressed ustar archive. */
export function tarGzArchive(files: readonly ArchiveFile[], mtimeMs: number): Buffer {
  const blocks: Buffer[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name.slice(0, 99), 0, 'utf8');
    h.write('0000644\0', 100, 'ascii');
    h.write('0000000\0', 108, 'ascii');
    h.write('0000000\0', 116, 'ascii');
    h.write(`${f.data.length.toString(8).padStart(11, '0')}\0`, 124, 'ascii');
    h.write(
      `${Math.floor(mtimeMs / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      'ascii',
    );
    h.write('        ', 148, 'ascii');
    h.write('0', 156, 'ascii');
    h.write('ustar\0', 257, 'ascii');
    h.write('00', 263, 'ascii');
    h.write('root', 265, 'ascii');
    h.write('root', 297, 'ascii');
    let sum = 0;
    for (const byte of h) sum += byte;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
    blocks.push(h, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

/** The files of a support archive for the miner at `now`. */
export function supportFiles(miner: VirtualMiner, view: MinerView, now: number): ArchiveFile[] {
  const details = {
    id: miner.id,
    uid: miner.identity.uid,
    model: miner.spec.name,
    serial_number: miner.identity.serialNumber,
    firmware: miner.firmware,
    hostname: miner.network.hostname,
    mac_address: miner.identity.macAddress,
    status: view.status,
    uptime_s: view.systemUptimeS,
    hashrate_1m_ghs: Math.round(view.realGhs[3] ?? 0),
    power_w: Math.round(view.powerW),
    faults: miner.listFaults(),
  };
  const text = (s: string): Buffer => Buffer.from(s, 'utf8');
  return [
    { name: 'details.json', data: text(`${JSON.stringify(details, null, 2)}\n`) },
    { name: 'logs/bosminer.log', data: text(logText(miner, view, 'LOG_TYPE_BOSMINER', now, 120)) },
    { name: 'logs/syslog.log', data: text(logText(miner, view, 'LOG_TYPE_SYSLOG', now, 60)) },
    { name: 'logs/errors.log', data: text(logText(miner, view, 'LOG_TYPE_ERRORS', now, 20)) },
    { name: 'logs/dmesg.log', data: text(logText(miner, view, 'LOG_TYPE_DMESG', now, 40)) },
  ];
}
