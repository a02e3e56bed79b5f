/**
 * Per-site bookkeeping of power changes by minute, so curtail and restore steps together never
 * change a site's power by more than the ramp in any minute. Steps run at whole minutes
 * (epoch-aligned): slot k is the minute starting at k·60 000 ms.
 */
export class RampLedger {
  private readonly used = new Map<number, number>();
  private readonly rampKw: number;

  constructor(rampKwPerMin: number) {
    this.rampKw = rampKwPerMin;
  }

  static slotAtOrAfter(t_ms: number): number {
    return Math.ceil(t_ms / 60_000);
  }

  fits(slot: number, kw: number): boolean {
    // tolerance for float sums of many small kW figures
    return (this.used.get(slot) ?? 0) + kw <= this.rampKw + 1e-9;
  }

  /** First slot ≥ `from` with room for `kw`. The caller checks kw ≤ ramp, else this never ends. */
  firstFit(from: number, kw: number): number {
    let s = from;
    while (!this.fits(s, kw)) s++;
    return s;
  }

  take(slot: number, kw: number): void {
    this.used.set(slot, (this.used.get(slot) ?? 0) + kw);
  }

  release(slot: number, kw: number): void {
    const left = (this.used.get(slot) ?? 0) - kw;
    if (left <= 1e-9) this.used.delete(slot);
    else this.used.set(slot, left);
  }
}
