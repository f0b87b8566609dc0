/**
 * Run logs for researchers: one row per round, as CSV or JSON, and an SVG line plot of test
 * accuracy against rounds for one or several runs (no dependencies; the SVG opens in any
 * browser and embeds in Markdown).
 * @module
 */

/** One round of a simulated run. */
export interface RoundLog {
  round: number;
  /** Test accuracy of the global model after the round (0 to 1), if a test set was given. */
  accuracy?: number;
  /** Test loss of the global model after the round. */
  testLoss?: number;
  /** Weighted mean training loss reported by the clients. */
  trainLoss?: number;
  status: 'applied' | 'skipped' | 'discarded';
  sampled: number;
  contributors: number;
  failures: number;
  /** Worst-case per-coordinate error the aggregation's encoding added to the mean. */
  meanErrorBound: number;
  clippedValues?: number;
  epsilon?: number;
  delta?: number;
  fitMs: number;
  durationMs: number;
}

const COLUMNS: (keyof RoundLog)[] = [
  'round',
  'accuracy',
  'testLoss',
  'trainLoss',
  'status',
  'sampled',
  'contributors',
  'failures',
  'meanErrorBound',
  'clippedValues',
  'epsilon',
  'delta',
  'fitMs',
  'durationMs',
];

/** The log as CSV with a header row (empty cells for absent values). */
export function roundsToCsv(rows: readonly RoundLog[]): string {
  const lines = [COLUMNS.join(',')];
  for (const r of rows)
    lines.push(COLUMNS.map((c) => (r[c] === undefined ? '' : String(r[c]))).join(','));
  return `${lines.join('\n')}\n`;
}

/** One line of a plot. */
export interface PlotSeries {
  name: string;
  /** (round, accuracy in [0, 1]) points. */
  points: readonly (readonly [number, number])[];
}

const COLORS = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#9467bd',
  '#ff7f0e',
  '#17becf',
  '#8c564b',
  '#e377c2',
];

function esc(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * An SVG line plot of accuracy against rounds.
 * @example
 * ```ts
 * writeFileSync('accuracy.svg', plotAccuracy([{ name: 'plain', points: [[1, 0.8], [2, 0.86]] }]));
 * ```
 */
export function plotAccuracy(
  series: readonly PlotSeries[],
  options: { title?: string; width?: number; height?: number; yMin?: number } = {},
): string {
  const W = options.width ?? 720;
  const H = options.height ?? 420;
  const m = { left: 60, right: 170, top: 40, bottom: 50 };
  const all = series.flatMap((s) => s.points);
  const xMax = Math.max(1, ...all.map((p) => p[0]));
  const yMinData = all.length === 0 ? 0 : Math.min(...all.map((p) => p[1]));
  const yMin = options.yMin ?? Math.max(0, Math.floor(yMinData * 10) / 10);
  const yMax = 1;
  const px = (x: number): number => m.left + (x / xMax) * (W - m.left - m.right);
  const py = (y: number): number =>
    H - m.bottom - ((y - yMin) / (yMax - yMin || 1)) * (H - m.top - m.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  ];
  if (options.title !== undefined) {
    out.push(
      `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(options.title)}</text>`,
    );
  }
  // Grid and axes
  const yStep = (yMax - yMin) / 5;
  for (let i = 0; i <= 5; i++) {
    const y = yMin + i * yStep;
    out.push(
      `<line x1="${m.left}" x2="${W - m.right}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#e0e0e0"/>`,
      `<text x="${m.left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${(y * 100).toFixed(0)}%</text>`,
    );
  }
  const xTicks = Math.min(10, xMax);
  for (let i = 0; i <= xTicks; i++) {
    const x = Math.round((i * xMax) / xTicks);
    out.push(
      `<text x="${px(x).toFixed(1)}" y="${H - m.bottom + 18}" text-anchor="middle">${x}</text>`,
    );
  }
  out.push(
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${H - m.bottom}" stroke="black"/>`,
    `<line x1="${m.left}" x2="${W - m.right}" y1="${H - m.bottom}" y2="${H - m.bottom}" stroke="black"/>`,
    `<text x="${(m.left + W - m.right) / 2}" y="${H - 12}" text-anchor="middle">round</text>`,
    `<text x="16" y="${(m.top + H - m.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(m.top + H - m.bottom) / 2})">test accuracy</text>`,
  );
  series.forEach((s, k) => {
    const color = COLORS[k % COLORS.length]!;
    const pts = s.points
      .map(([x, y]) => `${px(x).toFixed(1)},${py(Math.max(yMin, y)).toFixed(1)}`)
      .join(' ');
    if (s.points.length > 0) {
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts}"/>`);
    }
    const ly = m.top + 10 + k * 20;
    out.push(
      `<line x1="${W - m.right + 12}" x2="${W - m.right + 36}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${W - m.right + 42}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
