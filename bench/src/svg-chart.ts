/**
 * A small hand-made SVG line chart for benchmark results: several series, linear or log axes,
 * explicit ticks, and a caption (machine, command) under the plot. No dependency: the files stay
 * readable in a diff and open in any browser.
 */

export interface Series {
  name: string;
  points: readonly (readonly [number, number])[];
  colour?: string;
  dashed?: boolean;
}

export interface Axis {
  label: string;
  log?: boolean;
  /** Explicit ticks: value and its label. Without them, about six even ticks are drawn. */
  ticks?: readonly (readonly [number, string])[];
  min?: number;
  max?: number;
}

export interface ChartOptions {
  title: string;
  x: Axis;
  y: Axis;
  series: readonly Series[];
  /** Lines of small print under the chart: the machine, the command, the date. */
  caption?: readonly string[];
  width?: number;
  height?: number;
}

const PALETTE = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#57606a'];

const xml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** "Nice" tick values for a linear axis (1, 2, 5 × 10^n steps). */
function niceTicks(min: number, max: number, count = 6): number[] {
  const span = max - min || Math.abs(max) || 1;
  const raw = span / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function logTicks(min: number, max: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= min && v <= max) ticks.push(v);
    }
  }
  return ticks;
}

const formatTick = (v: number) =>
  Math.abs(v) >= 1000 || Number.isInteger(v) ? v.toLocaleString('en-US') : String(Number(v.toPrecision(3)));

/** Renders the chart as a standalone SVG document. */
export function lineChart(options: ChartOptions): string {
  const width = options.width ?? 860;
  const caption = options.caption ?? [];
  const plotHeight = (options.height ?? 520) - 0;
  const margin = { top: 48, right: 200, bottom: 56 + caption.length * 16, left: 78 };
  const height = plotHeight + caption.length * 16;
  const innerW = width - margin.left - margin.right;
  const innerH = plotHeight - 48 - 56;

  const all = options.series.flatMap((s) => s.points);
  const finite = (vals: number[], log?: boolean) => vals.filter((v) => Number.isFinite(v) && (!log || v > 0));
  const xs = finite(
    all.map((p) => p[0]),
    options.x.log,
  );
  const ys = finite(
    all.map((p) => p[1]),
    options.y.log,
  );
  const range = (axis: Axis, vals: number[]): [number, number] => {
    let lo = axis.min ?? (vals.length ? Math.min(...vals) : 0);
    let hi = axis.max ?? (vals.length ? Math.max(...vals) : 1);
    if (!axis.log && axis.min === undefined && lo > 0) lo = 0;
    if (hi === lo) hi = lo + (axis.log ? lo * 9 || 1 : 1);
    if (axis.log) {
      lo = Math.max(lo, 1e-6);
      hi = Math.max(hi, lo * 10);
    }
    return [lo, hi];
  };
  const [x0, x1] = range(options.x, xs);
  const [y0, y1] = range(options.y, ys);
  const scale = (axis: Axis, lo: number, hi: number, size: number, flip: boolean) => (v: number) => {
    const t = axis.log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : (v - lo) / (hi - lo);
    const clamped = Math.min(1, Math.max(0, t));
    return flip ? size * (1 - clamped) : size * clamped;
  };
  const sx = scale(options.x, x0, x1, innerW, false);
  const sy = scale(options.y, y0, y1, innerH, true);
  const ticksOf = (axis: Axis, lo: number, hi: number) =>
    axis.ticks?.filter(([v]) => v >= lo && v <= hi) ??
    (axis.log ? logTicks(lo, hi) : niceTicks(lo, hi)).map((v) => [v, formatTick(v)] as const);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${xml(options.title)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<title>${xml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${margin.left}" y="24" font-size="16" font-weight="600">${xml(options.title)}</text>`,
    `<g transform="translate(${margin.left},${margin.top})">`,
  );
  for (const [v, label] of ticksOf(options.y, y0, y1)) {
    const y = sy(v).toFixed(1);
    out.push(
      `<line x1="0" x2="${innerW}" y1="${y}" y2="${y}" stroke="#e5e7eb"/>`,
      `<text x="-8" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#444">${xml(label)}</text>`,
    );
  }
  for (const [v, label] of ticksOf(options.x, x0, x1)) {
    const x = sx(v).toFixed(1);
    out.push(
      `<line x1="${x}" x2="${x}" y1="0" y2="${innerH}" stroke="#f0f1f3"/>`,
      `<text x="${x}" y="${innerH + 18}" text-anchor="middle" fill="#444">${xml(label)}</text>`,
    );
  }
  out.push(
    `<rect x="0" y="0" width="${innerW}" height="${innerH}" fill="none" stroke="#888"/>`,
    `<text x="${innerW / 2}" y="${innerH + 40}" text-anchor="middle">${xml(options.x.label)}</text>`,
    `<text transform="translate(-58,${innerH / 2}) rotate(-90)" text-anchor="middle">${xml(options.y.label)}</text>`,
  );
  options.series.forEach((series, i) => {
    const colour = series.colour ?? PALETTE[i % PALETTE.length];
    const points = series.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!options.y.log || y > 0));
    if (points.length > 0) {
      const d = points.map(([x, y], n) => `${n === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join('');
      out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    const ly = 8 + i * 20;
    out.push(
      `<line x1="${innerW + 14}" x2="${innerW + 38}" y1="${ly}" y2="${ly}" stroke="${colour}" stroke-width="2"${series.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${innerW + 44}" y="${ly}" dominant-baseline="middle">${xml(series.name)}</text>`,
    );
  });
  out.push('</g>');
  caption.forEach((line, i) => {
    out.push(`<text x="12" y="${plotHeight + i * 16 - 4}" fill="#555" font-size="11">${xml(line)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/**
 * Points of a latency distribution for a percentile plot: x is -log10(1 - p), so p50, p90, p99,
 * p99.9 are evenly spaced and the tail is visible; the last point is the maximum.
 */
export function percentilePoints(sortedMs: readonly number[]): [number, number][] {
  const n = sortedMs.length;
  if (n === 0) return [];
  const points: [number, number][] = [];
  const maxX = Math.log10(n);
  for (let i = 0; i < n; i++) {
    const p = i / n;
    const x = -Math.log10(1 - p);
    if (i === 0 || i === n - 1 || points.length === 0 || x - (points[points.length - 1]?.[0] ?? 0) > 0.01)
      points.push([x, sortedMs[i] ?? 0]);
  }
  points.push([maxX, sortedMs[n - 1] ?? 0]);
  return points;
}

/** Ticks for the x axis of a percentile plot. */
export const PERCENTILE_TICKS: readonly (readonly [number, string])[] = [
  [0, 'p0'],
  [Math.log10(2), 'p50'],
  [1, 'p90'],
  [2, 'p99'],
  [3, 'p99.9'],
  [4, 'p99.99'],
];
