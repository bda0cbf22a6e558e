/**
 * A minimal log–log line chart as SVG text, for benchmark reports (error vs NFE). Plain string building: the
 * bench has no DOM and needs no dependency for a few polylines.
 */

/** One line of the chart. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [x: number, y: number]>;
}

const palette = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#7f7f7f",
];

const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** Powers of ten covering [lo, hi], with 2× and 5× ticks when the range is short. */
const logTicks = (lo: number, hi: number): number[] => {
  const ticks: number[] = [];
  const mantissas = Math.log10(hi / lo) < 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++)
    for (const m of mantissas) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(v);
    }
  return ticks;
};

/**
 * Renders series on log–log axes with a legend. Non-positive or non-finite points are skipped. A horizontal
 * dashed reference line (e.g. the sampling-noise floor) is drawn when `reference` is given.
 */
export const logLogChart = (options: {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly reference?: { readonly y: number; readonly label: string };
  readonly width?: number;
  readonly height?: number;
}): string => {
  const { title, xLabel, yLabel, series, reference } = options;
  const width = options.width ?? 900;
  const height = options.height ?? 480;
  const margin = { left: 70, right: 280, top: 40, bottom: 55 };
  const valid = series.map((s) => ({
    ...s,
    points: s.points.filter(([x, y]) => x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)),
  }));
  const xs = valid.flatMap((s) => s.points.map(([x]) => x));
  const ys = valid.flatMap((s) => s.points.map(([, y]) => y)).concat(reference ? [reference.y] : []);
  const [x0, x1] = [Math.min(...xs) / 1.2, Math.max(...xs) * 1.2];
  const [y0, y1] = [Math.min(...ys) / 1.5, Math.max(...ys) * 1.5];
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const px = (x: number) => margin.left + (plotW * Math.log(x / x0)) / Math.log(x1 / x0);
  const py = (y: number) => margin.top + plotH - (plotH * Math.log(y / y0)) / Math.log(y1 / y0);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${margin.left + plotW / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`,
  ];
  for (const t of logTicks(x0, x1)) {
    out.push(
      `<line x1="${px(t)}" y1="${margin.top}" x2="${px(t)}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`,
      `<text x="${px(t)}" y="${margin.top + plotH + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  for (const t of logTicks(y0, y1)) {
    out.push(
      `<line x1="${margin.left}" y1="${py(t)}" x2="${margin.left + plotW}" y2="${py(t)}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${py(t) + 4}" text-anchor="end">${t.toPrecision(2)}</text>`,
    );
  }
  out.push(
    `<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
  );
  if (reference) {
    out.push(
      `<line x1="${margin.left}" y1="${py(reference.y)}" x2="${margin.left + plotW}" y2="${py(reference.y)}" stroke="#555" stroke-dasharray="6 4"/>`,
    );
  }
  // Colours follow the series' positions, so one sampler keeps its colour in every chart; empty series are
  // left out of the plot and the legend.
  let row = 0;
  valid.forEach((s, i) => {
    if (s.points.length === 0) return;
    const color = palette[i % palette.length];
    const path = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`).join(" ");
    out.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const [x, y] of s.points)
      out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${color}"/>`);
    const ly = margin.top + 10 + row++ * 18;
    out.push(
      `<line x1="${width - margin.right + 12}" y1="${ly}" x2="${width - margin.right + 32}" y2="${ly}" stroke="${color}" stroke-width="2"/>`,
      `<text x="${width - margin.right + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  if (reference) {
    const ly = margin.top + 10 + row * 18;
    out.push(
      `<line x1="${width - margin.right + 12}" y1="${ly}" x2="${width - margin.right + 32}" y2="${ly}" stroke="#555" stroke-dasharray="6 4"/>`,
      `<text x="${width - margin.right + 38}" y="${ly + 4}">${escapeXml(reference.label)}</text>`,
    );
  }
  out.push("</svg>");
  return out.join("\n");
};
