/**
 * Drawing on a 2-D canvas: a square view of the plane [−R, R]², points, trajectories and arrows. Plain functions
 * of a context and the data; the canvas's backing store follows its CSS size and the device pixel ratio.
 *
 * @module
 */

/** The half-width R of the view [−R, R]² in data units (the toys lie within about ±4.5). */
export const VIEW_RADIUS = 5;

/** Colours, matching style.css. */
export const COLORS = {
  background: "#fbfbf8",
  grid: "#e4e4dc",
  axis: "#c9c9bd",
  data: "rgba(120, 120, 110, 0.22)",
  forward: "#1f6f8b",
  particle: "#c2410c",
  trail: "rgba(194, 65, 12, 0.18)",
  arrow: "rgba(31, 111, 139, 0.75)",
} as const;

/** A canvas prepared for drawing in data coordinates. */
export interface View {
  /** The context. */
  readonly ctx: CanvasRenderingContext2D;
  /** The side of the canvas in device pixels. */
  readonly size: number;
  /** Device pixels per data unit. */
  readonly scale: number;
}

/** Sizes the backing store to the canvas's CSS box (square), clears it and draws the unit grid. */
export const prepare = (canvas: HTMLCanvasElement): View | undefined => {
  const ctx = canvas.getContext("2d");
  if (ctx === null) return undefined;
  const ratio = window.devicePixelRatio || 1;
  const size = Math.max(1, Math.round(canvas.clientWidth * ratio));
  if (canvas.width !== size || canvas.height !== size) {
    canvas.width = size;
    canvas.height = size;
  }
  const view: View = { ctx, size, scale: size / (2 * VIEW_RADIUS) };
  ctx.fillStyle = COLORS.background;
  ctx.fillRect(0, 0, size, size);
  ctx.lineWidth = Math.max(1, ratio * 0.75);
  for (let u = -VIEW_RADIUS + 1; u < VIEW_RADIUS; u++) {
    ctx.strokeStyle = u === 0 ? COLORS.axis : COLORS.grid;
    const p = toPixel(view, u);
    ctx.beginPath();
    ctx.moveTo(p, 0);
    ctx.lineTo(p, size);
    ctx.moveTo(0, size - p);
    ctx.lineTo(size, size - p);
    ctx.stroke();
  }
  return view;
};

/** The pixel offset of a data coordinate (x to the right; y is flipped by the callers). */
const toPixel = (view: View, u: number): number => (u + VIEW_RADIUS) * view.scale;

/** Draws rows (x, y) of a flat [n, 2] array as dots; returns how many fell outside the view. */
export const drawPoints = (view: View, points: ArrayLike<number>, color: string, radius: number): number => {
  const { ctx, size } = view;
  const r = radius * (window.devicePixelRatio || 1);
  ctx.fillStyle = color;
  let outside = 0;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const px = toPixel(view, points[i]);
    const py = size - toPixel(view, points[i + 1]);
    if (!(px >= 0 && px <= size && py >= 0 && py <= size)) {
      outside++;
      continue;
    }
    ctx.fillRect(px - r, py - r, 2 * r, 2 * r);
  }
  return outside;
};

/** Draws the paths of the first `count` particles through the recorded states (each a flat [n, 2] array). */
export const drawTrails = (view: View, states: readonly ArrayLike<number>[], count: number): void => {
  if (states.length < 2) return;
  const { ctx, size } = view;
  ctx.strokeStyle = COLORS.trail;
  ctx.lineWidth = Math.max(1, (window.devicePixelRatio || 1) * 0.8);
  const n = Math.min(count, states[0].length / 2);
  ctx.beginPath();
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < states.length; k++) {
      const px = toPixel(view, states[k][2 * i]);
      const py = size - toPixel(view, states[k][2 * i + 1]);
      if (k === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
  }
  ctx.stroke();
};

/**
 * Draws an arrow from each point (rows of `at`) along its vector (rows of `vectors`), in data units, each
 * shortened to at most `maxLength`.
 */
export const drawArrows = (
  view: View,
  at: ArrayLike<number>,
  vectors: ArrayLike<number>,
  maxLength: number,
): void => {
  const { ctx, size, scale } = view;
  ctx.strokeStyle = COLORS.arrow;
  ctx.fillStyle = COLORS.arrow;
  ctx.lineWidth = Math.max(1, (window.devicePixelRatio || 1) * 1.1);
  const head = 0.12 * scale;
  for (let i = 0; i + 1 < at.length; i += 2) {
    let [vx, vy] = [vectors[i], vectors[i + 1]];
    const length = Math.hypot(vx, vy);
    if (!(length > 1e-9) || !Number.isFinite(length)) continue;
    if (length > maxLength) [vx, vy] = [(vx * maxLength) / length, (vy * maxLength) / length];
    const x0 = toPixel(view, at[i]);
    const y0 = size - toPixel(view, at[i + 1]);
    const x1 = x0 + vx * scale;
    const y1 = y0 - vy * scale;
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
    const angle = Math.atan2(y1 - y0, x1 - x0);
    const h = Math.min(head, 0.5 * Math.hypot(x1 - x0, y1 - y0));
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x1 - h * Math.cos(angle - 0.45), y1 - h * Math.sin(angle - 0.45));
    ctx.lineTo(x1 - h * Math.cos(angle + 0.45), y1 - h * Math.sin(angle + 0.45));
    ctx.closePath();
    ctx.fill();
  }
};

/** The centres of an m × m grid of cells over the view, as a flat [m², 2] array. */
export const arrowGrid = (m: number): Float32Array => {
  const points = new Float32Array(2 * m * m);
  const cell = (2 * VIEW_RADIUS) / m;
  for (let i = 0; i < m; i++)
    for (let j = 0; j < m; j++) {
      points[2 * (i * m + j)] = -VIEW_RADIUS + (j + 0.5) * cell;
      points[2 * (i * m + j) + 1] = -VIEW_RADIUS + (i + 0.5) * cell;
    }
  return points;
};
