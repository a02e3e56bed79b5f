import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { formatLine, parseLine, readLines, type LinePoint } from '../../store/transfer/line-protocol.ts';
import { parseSince } from '../../bin/commands/transfer.ts';

describe('line protocol', () => {
  const p: LinePoint = {
    measurement: 'miner telemetry,x',
    tags: { site: 'dc 1', miner: 'a=b,c', tenant: 'acme' },
    fields: { hashrate_ghs: 104_512.25, boards: 3n, status: 'say "hi" \\ there', ok: true },
    timeNs: 1_796_598_583_613_000_000n,
  };

  it('writes escapes and types as InfluxDB reads them, tags sorted', () => {
    expect(formatLine(p)).toBe(
      'miner\\ telemetry\\,x,miner=a\\=b\\,c,site=dc\\ 1,tenant=acme hashrate_ghs=104512.25,boards=3i,status="say \\"hi\\" \\\\ there",ok=true 1796598583613000000',
    );
  });

  it('reads back what it writes', () => {
    expect(parseLine(formatLine(p))).toEqual(p);
  });

  it('reads InfluxDB spellings: integers, unsigned, booleans, exponents, no tags', () => {
    expect(parseLine('m a=1i,b=2u,c=T,d=false,e=-1.5e3 5')).toEqual({ measurement: 'm', tags: {}, fields: { a: 1n, b: 2n, c: true, d: false, e: -1500 }, timeNs: 5n });
  });

  it('names the line and what is wrong', () => {
    expect(() => parseLine('m,site=a', 'f.lp:3')).toThrow(/f\.lp:3: no fields/);
    expect(() => parseLine('m x=abc 1', 'f.lp:4')).toThrow(/f\.lp:4: field x=abc is not a number/);
    expect(() => parseLine('m x=1 soon', 'f.lp:5')).toThrow(/timestamp "soon"/);
    expect(() => parseLine('m x="open 1', 'f.lp:6')).toThrow(/unterminated string/);
  });

  it('reads a stream split anywhere, skipping blank lines and comments', async () => {
    const text = `# exported\n${formatLine(p)}\n\nm v=1 2\r\nm v=2 3`;
    const chunks = [text.slice(0, 7), text.slice(7, 50), text.slice(50)];
    const out: LinePoint[] = [];
    for await (const x of readLines(Readable.from(chunks), 'f')) out.push(x);
    expect(out.map(x => x.timeNs)).toEqual([p.timeNs, 2n, 3n]);
  });

  it('--since reads d, h and m', () => {
    expect(parseSince('30d')).toBe(30 * 86_400_000);
    expect(parseSince('90m')).toBe(90 * 60_000);
    expect(() => parseSince('1 week')).toThrow(/expected a duration such as 30d/);
  });
});
