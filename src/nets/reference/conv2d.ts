/**
 * Plain-TypeScript reference convolution, forward and backward, accumulating in float64: the oracle the kernels
 * are tested against. Direct sums, no tricks:
 *   y[n, o, i, j] = b[o] + Σ_{c, u, v} w[o, c, u, v] · x[n, c, s·i + u − p, s·j + v − p]  (zero outside x),
 *   ∂x[n, c, y, x] = Σ_{o, u, v, i, j: s·i + u − p = y, s·j + v − p = x} w[o, c, u, v] · ∂y[n, o, i, j],
 *   ∂w[o, c, u, v] = Σ_{n, i, j} ∂y[n, o, i, j] · x[n, c, s·i + u − p, s·j + v − p],
 *   ∂b[o] = Σ_{n, i, j} ∂y[n, o, i, j].
 * Source: PyTorch `torch.nn.functional.conv2d` semantics (cross-correlation, NCHW, weight [Cout, Cin, kh, kw]);
 * the adjoint sums follow from differentiating the forward sum term by term.
 *
 * @module
 */
import type { Storage, Tensor, Tensor64 } from "../../core/tensor.js";
import type { Conv2dGradients, Conv2dShape } from "../conv2d-shape.js";

/** Visits every (input index, weight index, output index) triple of the convolution's sum. */
const forEachTap = (g: Conv2dShape, visit: (xi: number, wi: number, yi: number) => void): void => {
  const { n, cin, h, w, cout, kh, kw, stride, padding, hout, wout } = g;
  for (let b = 0; b < n; b++)
    for (let o = 0; o < cout; o++)
      for (let i = 0; i < hout; i++)
        for (let j = 0; j < wout; j++) {
          const yi = ((b * cout + o) * hout + i) * wout + j;
          for (let c = 0; c < cin; c++)
            for (let u = 0; u < kh; u++) {
              const r = stride * i + u - padding;
              if (r < 0 || r >= h) continue;
              for (let v = 0; v < kw; v++) {
                const q = stride * j + v - padding;
                if (q < 0 || q >= w) continue;
                visit(((b * cin + c) * h + r) * w + q, ((o * cin + c) * kh + u) * kw + v, yi);
              }
            }
        }
};

/**
 * Reference forward convolution in float64 (see the module equation). `bias` may be omitted (b = 0).
 *
 * @category Networks
 */
export const conv2dReference = (
  g: Conv2dShape,
  x: Tensor<Storage>,
  weight: Tensor<Storage>,
  bias?: Tensor<Storage>,
): Tensor64 => {
  const y = new Float64Array(g.n * g.cout * g.hout * g.wout);
  const plane = g.hout * g.wout;
  if (bias) for (let i = 0; i < y.length; i++) y[i] = bias.data[Math.floor(i / plane) % g.cout];
  forEachTap(g, (xi, wi, yi) => {
    y[yi] += weight.data[wi] * x.data[xi];
  });
  return { shape: [g.n, g.cout, g.hout, g.wout], data: y };
};

/**
 * Reference backward convolution in float64: ∂x, ∂w, ∂b for an output gradient `dy` (module equations).
 *
 * @category Networks
 */
export const conv2dBackwardReference = (
  g: Conv2dShape,
  x: Tensor<Storage>,
  weight: Tensor<Storage>,
  dy: Tensor<Storage>,
): Conv2dGradients<Float64Array> => {
  const dx = new Float64Array(x.data.length);
  const dw = new Float64Array(weight.data.length);
  const db = new Float64Array(g.cout);
  const plane = g.hout * g.wout;
  for (let i = 0; i < dy.data.length; i++) db[Math.floor(i / plane) % g.cout] += dy.data[i];
  forEachTap(g, (xi, wi, yi) => {
    dx[xi] += weight.data[wi] * dy.data[yi];
    dw[wi] += x.data[xi] * dy.data[yi];
  });
  return {
    dx: { shape: [...x.shape], data: dx },
    dw: { shape: [...weight.shape], data: dw },
    db: { shape: [g.cout], data: db },
  };
};
