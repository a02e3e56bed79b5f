import { describe, expect, it } from 'vitest';
import * as points from '../../collector/points.ts';
import type { FleetEvent, MinerRef, MinerSample } from '../../core/samples.ts';
import { toLine, toLines } from '../../store/influx-redis/line-protocol.ts';

// The collector's points as the InfluxDB adapter writes them.
const samplePoints = (s: MinerSample): string[] => toLines(points.samplePoints(s));
const offlinePoint = (...a: Parameters<typeof points.offlinePoint>): string => toLine(points.offlinePoint(...a))!;
const eventPoint = (e: FleetEvent): string => toLine(points.eventPoint(e))!;

// Golden lines: exact line protocol for a realistic S19j Pro poll (3 boards, 4 fans, 2 pools).

const T = 1_764_000_000_123;
const ref: MinerRef = {
  id: 'miner-0001',
  tenant: 'acme',
  site: 'dc-1',
  address: '10.0.0.11:50051',
  credentials: 'default',
  labels: { rack: 'A1' },
};

function sample(over: Partial<MinerSample> = {}): MinerSample {
  return {
    time_ms: T,
    ref,
    model: 'Antminer S19j Pro',
    hostname: 'miner-0001',
    firmware: '2024-09-18-0-9cb0a1d4-24.09-plus',
    status: 'online',
    degraded_reasons: [],
    miner_status: 'normal',
    tuner_state: 'stable',
    hashrate_ghs: 104250.5,
    hashrate_5m_ghs: 104000.25,
    hashrate_nominal_ghs: 104000,
    hashrate_error_mhs: 12.5,
    power_w: 3070,
    power_target_w: 3100,
    efficiency_jth: 29.45,
    temp_chip_max_c: 78.5,
    temp_board_max_c: 65,
    fan_rpm_min: 4320,
    fan_rpm_avg: 4402.5,
    shares_accepted: 18734,
    shares_rejected: 12,
    shares_stale: 3,
    uptime_s: 86400,
    boards_hashing: 2,
    boards_total: 3,
    hashboards: [
      {
        board: '0',
        enabled: true,
        hashrate_ghs: 52125.25,
        hashrate_nominal_ghs: 52000,
        hashrate_error_mhs: 4.5,
        temp_chip_c: 78.5,
        temp_board_c: 65,
        temp_inlet_c: 40.25,
        temp_outlet_c: 55.75,
        voltage_v: 13.6,
        frequency_mhz: 525,
        chips: 126,
      },
      {
        board: '1',
        enabled: true,
        hashrate_ghs: 52125.25,
        hashrate_nominal_ghs: 52000,
        hashrate_error_mhs: 8,
        temp_chip_c: 77,
        temp_board_c: 64.5,
        temp_inlet_c: 39.5,
        temp_outlet_c: 55,
        voltage_v: 13.6,
        frequency_mhz: 525,
        chips: 126,
      },
      {
        board: '2',
        enabled: false,
        hashrate_ghs: 0,
        hashrate_nominal_ghs: 0,
        hashrate_error_mhs: 0,
        temp_chip_c: null,
        temp_board_c: null,
        temp_inlet_c: null,
        temp_outlet_c: null,
        voltage_v: null,
        frequency_mhz: null,
        chips: null,
      },
    ],
    fans: [
      { fan: '0', rpm: 4320, pwm_ratio: 0.62 },
      { fan: '1', rpm: 4410, pwm_ratio: 0.62 },
      { fan: '2', rpm: 4440, pwm_ratio: 0.62 },
      { fan: '3', rpm: 4440, pwm_ratio: null },
    ],
    pools: [
      {
        group: 'Main pools',
        pool: 'stratum+tcp://stratum.braiins.com:3333',
        user: 'acme.w1',
        accepted: 18731,
        rejected: 12,
        stale: 3,
        alive: true,
        active: true,
        enabled: true,
      },
      {
        group: 'Main pools',
        pool: 'stratum+tcp://backup.example.org:3333',
        user: 'acme.w1',
        accepted: 3,
        rejected: 0,
        stale: 0,
        alive: false,
        active: false,
        enabled: true,
      },
    ],
    ...over,
  };
}

const TAGS = 'miner=miner-0001,model=Antminer\\ S19j\\ Pro,site=dc-1,tenant=acme';

describe('samplePoints', () => {
  it('writes the golden lines for a full poll', () => {
    expect(samplePoints(sample())).toEqual([
      `miner,${TAGS} up=1i,status="online",hashrate_ghs=104250.5,hashrate_5m_ghs=104000.25,hashrate_nominal_ghs=104000,hashrate_error_mhs=12.5,power_w=3070,power_target_w=3100,efficiency_jth=29.45,temp_chip_max_c=78.5,temp_board_max_c=65,fan_rpm_min=4320i,fan_rpm_avg=4402.5,shares_accepted=18734i,shares_rejected=12i,shares_stale=3i,tuner_state="stable",uptime_s=86400i,boards_hashing=2i,boards_total=3i,firmware="2024-09-18-0-9cb0a1d4-24.09-plus" ${T}`,
      `hashboard,board=0,miner=miner-0001,site=dc-1,tenant=acme hashrate_ghs=52125.25,hashrate_nominal_ghs=52000,hashrate_error_mhs=4.5,temp_chip_c=78.5,temp_board_c=65,temp_inlet_c=40.25,temp_outlet_c=55.75,voltage_v=13.6,frequency_mhz=525,chips=126i,enabled=1i ${T}`,
      `hashboard,board=1,miner=miner-0001,site=dc-1,tenant=acme hashrate_ghs=52125.25,hashrate_nominal_ghs=52000,hashrate_error_mhs=8,temp_chip_c=77,temp_board_c=64.5,temp_inlet_c=39.5,temp_outlet_c=55,voltage_v=13.6,frequency_mhz=525,chips=126i,enabled=1i ${T}`,
      `hashboard,board=2,miner=miner-0001,site=dc-1,tenant=acme hashrate_ghs=0,hashrate_nominal_ghs=0,hashrate_error_mhs=0,enabled=0i ${T}`,
      `fan,fan=0,miner=miner-0001,site=dc-1,tenant=acme rpm=4320i,pwm_ratio=0.62 ${T}`,
      `fan,fan=1,miner=miner-0001,site=dc-1,tenant=acme rpm=4410i,pwm_ratio=0.62 ${T}`,
      `fan,fan=2,miner=miner-0001,site=dc-1,tenant=acme rpm=4440i,pwm_ratio=0.62 ${T}`,
      `fan,fan=3,miner=miner-0001,site=dc-1,tenant=acme rpm=4440i ${T}`,
      `pool,group=Main\\ pools,miner=miner-0001,pool=stratum+tcp://stratum.braiins.com:3333,site=dc-1,tenant=acme accepted=18731i,rejected=12i,stale=3i,alive=1i,active=1i,enabled=1i ${T}`,
      `pool,group=Main\\ pools,miner=miner-0001,pool=stratum+tcp://backup.example.org:3333,site=dc-1,tenant=acme accepted=3i,rejected=0i,stale=0i,alive=0i,active=0i,enabled=1i ${T}`,
    ]);
  });

  it('omits null, NaN and Infinity instead of writing them', () => {
    const [miner] = samplePoints(
      sample({
        power_w: null,
        efficiency_jth: Number.NaN,
        temp_chip_max_c: Number.POSITIVE_INFINITY,
        fan_rpm_min: null,
        fan_rpm_avg: null,
        hashboards: [],
        fans: [],
        pools: [],
      }),
    );
    expect(miner).not.toMatch(/power_w=|efficiency_jth|temp_chip_max_c|fan_rpm_min|fan_rpm_avg|NaN|Infinity/);
    expect(miner).toContain('power_target_w=3100,temp_board_max_c=65,shares_accepted=18734i');
  });

  it('keeps every field at one type: integral floats stay floats, counts stay integers', () => {
    const [miner] = samplePoints(
      sample({ power_w: 3000, hashrate_ghs: 100000, shares_accepted: 5.4, uptime_s: 99.6 }),
    );
    expect(miner).toContain('hashrate_ghs=100000,');
    expect(miner).toContain('power_w=3000,');
    expect(miner).toContain('shares_accepted=5i');
    expect(miner).toContain('uptime_s=100i');
  });

  it('uses the same line shape for any sample (fields never change type)', () => {
    const typeOf = (l: string): Record<string, string> => {
      const fields = l.split(/(?<!\\) /)[1]!; // tags hold escaped spaces
      return Object.fromEntries(
        fields.split(',').map(kv => {
          const [k, v] = kv.split('=') as [string, string];
          return [k, v.startsWith('"') ? 'string' : v.endsWith('i') ? 'integer' : 'float'];
        }),
      );
    };
    const a = typeOf(samplePoints(sample())[0]!);
    const b = typeOf(
      samplePoints(
        sample({ hashrate_ghs: 0, power_w: 0, efficiency_jth: 0, temp_chip_max_c: 80, fan_rpm_avg: 4000 }),
      )[0]!,
    );
    expect(b).toEqual(a);
  });
});

describe('offlinePoint', () => {
  it('writes up=0 and status only, in the same series as online points', () => {
    expect(offlinePoint(ref, 'Antminer S19j Pro', T + 10_000)).toBe(
      `miner,${TAGS} up=0i,status="offline" ${T + 10_000}`,
    );
  });

  it('leaves out an unknown model (empty tag values are invalid line protocol)', () => {
    expect(offlinePoint(ref, null, T)).toBe(
      `miner,miner=miner-0001,site=dc-1,tenant=acme up=0i,status="offline" ${T}`,
    );
  });
});

describe('eventPoint', () => {
  const event: FleetEvent = {
    time_ms: T,
    tenant: 'acme',
    site: 'dc-1',
    miner: 'miner-0001',
    kind: 'control_action',
    severity: 'info',
    message: 'set power target 3100 W',
    actor: 'alice@acme.example',
    result: 'ok',
    data: { power_target_w: 3100 },
  };

  it('writes the golden event line', () => {
    expect(eventPoint(event)).toBe(
      `event,kind=control_action,miner=miner-0001,severity=info,site=dc-1,tenant=acme message="set power target 3100 W",actor="alice@acme.example",result="ok",data="{\\"power_target_w\\":3100}" ${T}`,
    );
  });

  it('omits missing actor/result/data', () => {
    const { actor: _a, result: _r, data: _d, ...bare } = event;
    expect(
      eventPoint({ ...bare, kind: 'miner_offline', severity: 'warning', message: 'no answer for 3 polls' }),
    ).toBe(
      `event,kind=miner_offline,miner=miner-0001,severity=warning,site=dc-1,tenant=acme message="no answer for 3 polls" ${T}`,
    );
  });
});

describe('escaping', () => {
  it('escapes tag commas, spaces and equals signs, and string quotes and backslashes', () => {
    const odd: MinerRef = { ...ref, id: 'a,b=c d', tenant: 'big co', site: 'hall=1,row 2' };
    expect(offlinePoint(odd, 'S21 Hydro', T)).toBe(
      `miner,miner=a\\,b\\=c\\ d,model=S21\\ Hydro,site=hall\\=1\\,row\\ 2,tenant=big\\ co up=0i,status="offline" ${T}`,
    );
    const line = eventPoint({
      time_ms: T,
      tenant: 'big co',
      site: 's',
      miner: 'm',
      kind: 'job_step',
      severity: 'info',
      message: 'said "hi" \\ then\nleft',
    });
    expect(line).toBe(
      `event,kind=job_step,miner=m,severity=info,site=s,tenant=big\\ co message="said \\"hi\\" \\\\ then\nleft" ${T}`,
    );
  });

  it('escapes tag values of child points too', () => {
    const lines = samplePoints(
      sample({
        ref: { ...ref, id: 'x y' },
        hashboards: [],
        fans: [{ fan: 'rear left', rpm: 1, pwm_ratio: null }],
        pools: [],
      }),
    );
    expect(lines[1]).toBe(`fan,fan=rear\\ left,miner=x\\ y,site=dc-1,tenant=acme rpm=1i ${T}`);
  });
});
