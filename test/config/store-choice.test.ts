import { describe, expect, it } from 'vitest';
import { apiConfigSchema } from '../../api/config.ts';
import { collectorConfigSchema } from '../../collector/config.ts';
import { mcpConfigSchema } from '../../mcp/config.ts';
import { parseConfig } from '../../runtime/config-loader.ts';
import { dataDirOf, defaultDataDir } from '../../store/open-store.ts';

describe('which store', () => {
  for (const [name, schema] of [['collector', collectorConfigSchema], ['api', apiConfigSchema], ['mcp', mcpConfigSchema]] as const) {
    it(`${name}: embedded unless a server is named; BOSFLEET_STORE wins`, () => {
      expect(parseConfig(schema, {}).BOSFLEET_STORE).toBe('embedded');
      expect(parseConfig(schema, { REDIS_URL: 'redis://10.0.0.5:6379' }).BOSFLEET_STORE).toBe('influx-redis');
      expect(parseConfig(schema, { INFLUX_URL: 'http://10.0.0.6:8086' }).BOSFLEET_STORE).toBe('influx-redis');
      expect(parseConfig(schema, { INFLUX_URL: 'http://10.0.0.6:8086', BOSFLEET_STORE: 'embedded' }).BOSFLEET_STORE).toBe('embedded');
      expect(() => parseConfig(schema, { BOSFLEET_STORE: 'sqlite' })).toThrow(/BOSFLEET_STORE="sqlite": expected one of embedded, influx-redis/);
    });
  }

  it('the data folder: BOSFLEET_DATA_DIR, else $XDG_DATA_HOME/bos-fleet, else ~/.local/share/bos-fleet', () => {
    expect(dataDirOf({ BOSFLEET_DATA_DIR: '/srv/fleet' }, { HOME: '/home/u' })).toBe('/srv/fleet');
    expect(defaultDataDir({ HOME: '/home/u', XDG_DATA_HOME: '/data/xdg' })).toBe('/data/xdg/bos-fleet');
    expect(defaultDataDir({ HOME: '/home/u', XDG_DATA_HOME: 'relative/ignored' })).toBe('/home/u/.local/share/bos-fleet');
    expect(defaultDataDir({ HOME: '/home/u' })).toBe('/home/u/.local/share/bos-fleet');
  });
});
