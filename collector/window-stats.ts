import type { ClosedWindow } from './rollups.ts';
import type { WindowStat } from '../core/window-stats.ts';

// The format lives in core/ (the query service and the store read it too); re-exported for the collector's callers.
export * from '../core/window-stats.ts';

export function windowStatOf(w: ClosedWindow): WindowStat {
  return {
    site: w.ref.site,
    model: w.model ?? '',
    polls: w.polls,
    reached: w.reached,
    hashrate_ghs: { ...w.hashrate_ghs },
    hashrate_nominal_ghs: { ...w.hashrate_nominal_ghs },
    power_w: { ...w.power_w },
    temp_chip_max_c: { ...w.temp_chip_max_c },
    temp_chip_max_max_c: w.temp_chip_max_max_c,
    temp_board_max_c: w.temp_board_max_c,
  };
}
