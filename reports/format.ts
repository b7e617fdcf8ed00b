/** Number formatting shared by the HTML and Markdown reports. */

export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '–';
  if (v !== 0 && (Math.abs(v) >= 1e6 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined) return '–';
  return v >= 1000 ? `${fmtNum(v / 1000)} s` : `${fmtNum(v)} ms`;
}

export function fmtPct(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : `${v.toFixed(1)}%`;
}

export function fmtSpeedup(v: number): string {
  return `${fmtNum(v)}×`;
}

export function fmtGflops(flopsPerS: number): string {
  return `${fmtNum(flopsPerS / 1e9)} GFLOP/s`;
}

export function fmtGBs(bytesPerS: number): string {
  return `${fmtNum(bytesPerS / 1e9)} GB/s`;
}

/** Kernel versions chosen per op ({ 'dcae-resblock': 4 }) as "dcae-resblock v4, …"; '' for none. */
export function fmtOpVersions(v: Readonly<Record<string, number>> | undefined): string {
  return Object.entries(v ?? {})
    .map(([op, n]) => `${op} v${n}`)
    .join(', ');
}
