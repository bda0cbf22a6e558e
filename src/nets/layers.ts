/**
 * The network ops on a {@link Tape}: each runs the checked forward entry point of its kernel and records the
 * matching backward entry point as its pullback. Networks (the U-Net, the MLP) are compositions of these.
 * Parameters enter as nodes (see `parameterNode`), so one op serves trained weights and frozen ones alike.
 *
 * Two ops exist only here, because they are broadcasts rather than kernels: {@link addChannelBiasNode}
 * (a per-sample, per-channel vector added over the spatial axes: the time-embedding injection of a ResNet
 * block) and {@link scaleRowsNode} (each sample multiplied by its own scalar: preconditioning c_in(σ)·x,
 * c_out(σ)·F).
 *
 * @module
 */
import type { Tensor } from "../core/tensor.js";
import type { AttentionOptions, AttentionWeights } from "./attention-shape.js";
import type { Conv2dOptions } from "./conv2d-shape.js";
import type { GroupNormOptions } from "./group-norm-shape.js";
import { residualAdd } from "./kernels/add.js";
import { attention, attentionBackward } from "./kernels/attention.js";
import { concatChannels, concatChannelsBackward } from "./kernels/concat.js";
import { conv2d, conv2dBackward } from "./kernels/conv2d.js";
import { groupNorm, groupNormBackward } from "./kernels/group-norm.js";
import { linear, linearBackward } from "./kernels/linear.js";
import { silu, siluBackward } from "./kernels/silu.js";
import { upsampleNearest2x, upsampleNearest2xBackward } from "./kernels/upsample.js";
import type { AttentionParameters } from "./ops.js";
import { must, type Node, recordOp, type Tape } from "./tape.js";

const like = (x: Tensor, data: Float32Array): Tensor => ({ shape: x.shape, data });

/**
 * Convolution y = conv2d(x, w) + b (PyTorch `Conv2d`); pullback (∂x, ∂w, ∂b) from `conv2dBackward`.
 *
 * @category Networks
 */
export const conv2dNode = (tape: Tape, x: Node, w: Node, b: Node, options: Conv2dOptions): Node => {
  const k = tape.kernels.conv2d;
  const y = must(conv2d(k, x.value, w.value, b.value, options));
  return recordOp(tape, y, [x, w, b], (dy) => {
    const g = must(conv2dBackward(k, x.value, w.value, like(y, dy), options));
    return [g.dx.data, g.dw.data, g.db.data];
  });
};

/**
 * Affine map y = x·Wᵀ + b over the last axis (PyTorch `Linear`); pullback from `linearBackward`.
 *
 * @category Networks
 */
export const linearNode = (tape: Tape, x: Node, w: Node, b: Node): Node => {
  const k = tape.kernels.linear;
  const y = must(linear(k, x.value, w.value, b.value));
  return recordOp(tape, y, [x, w, b], (dy) => {
    const g = must(linearBackward(k, x.value, w.value, like(y, dy)));
    return [g.dx.data, g.dw.data, g.db.data];
  });
};

/**
 * Group normalization with affine γ, β (PyTorch `GroupNorm`); pullback from `groupNormBackward`.
 *
 * @category Networks
 */
export const groupNormNode = (
  tape: Tape,
  x: Node,
  gamma: Node,
  beta: Node,
  options: GroupNormOptions,
): Node => {
  const y = must(groupNorm(x.value, gamma.value, beta.value, options));
  return recordOp(tape, y, [x, gamma, beta], (dy) => {
    const g = must(groupNormBackward(x.value, gamma.value, like(y, dy), options));
    return [g.dx.data, g.dgamma.data, g.dbeta.data];
  });
};

/**
 * SiLU y = x·σ(x); pullback ∂x = ∂y·σ(x)·(1 + x·(1 − σ(x))).
 *
 * @category Networks
 */
export const siluNode = (tape: Tape, x: Node): Node => {
  const y = must(silu(x.value));
  return recordOp(tape, y, [x], (dy) => [must(siluBackward(x.value, like(y, dy))).data]);
};

/**
 * Element-wise sum y = a + b of equal shapes; pullback ∂a = ∂b = ∂y.
 *
 * @category Networks
 */
export const addNode = (tape: Tape, a: Node, b: Node): Node =>
  recordOp(tape, must(residualAdd(a.value, b.value)), [a, b], (dy) => [dy, dy]);

/**
 * Channel concatenation y = cat(xs, dim=1); pullback splits ∂y back by channel counts.
 *
 * @category Networks
 */
export const concatNode = (tape: Tape, xs: readonly Node[]): Node => {
  const y = must(concatChannels(xs.map((x) => x.value)));
  const channels = xs.map((x) => x.value.shape[1]);
  return recordOp(tape, y, xs, (dy) =>
    must(concatChannelsBackward(like(y, dy), channels)).map((t) => t.data),
  );
};

/**
 * Nearest-neighbour 2× upsampling; pullback sums each 2×2 block of ∂y.
 *
 * @category Networks
 */
export const upsampleNode = (tape: Tape, x: Node): Node => {
  const y = must(upsampleNearest2x(x.value));
  return recordOp(tape, y, [x], (dy) => [must(upsampleNearest2xBackward(like(y, dy))).data]);
};

/**
 * The parameter nodes of one attention block (see {@link AttentionParameters}).
 *
 * @category Networks
 */
export type AttentionNodes = AttentionParameters<Node>;

const PROJECTIONS = ["toQ", "toK", "toV", "toOut"] as const;

/**
 * Spatial multi-head self-attention y = (z(x) + r)/f (diffusers `AttnProcessor`, see `attention-shape.ts`),
 * with x the normalized input and r the residual; pullback from `attentionBackward`.
 *
 * @category Networks
 */
export const attentionNode = (
  tape: Tape,
  x: Node,
  weights: AttentionNodes,
  residual: Node,
  options: AttentionOptions,
): Node => {
  const k = tape.kernels.attention;
  const values = Object.fromEntries(
    PROJECTIONS.map((p) => [p, { weight: weights[p][0].value, bias: weights[p][1].value }]),
  ) as unknown as AttentionWeights;
  const y = must(attention(k, x.value, values, residual.value, options));
  const params = PROJECTIONS.flatMap((p) => weights[p]);
  return recordOp(tape, y, [x, residual, ...params], (dy) => {
    const g = must(attentionBackward(k, x.value, values, residual.value, like(y, dy), options));
    return [
      g.dx.data,
      g.dResidual?.data,
      ...PROJECTIONS.flatMap((p) => [g.dWeights[p].weight.data, g.dWeights[p].bias.data]),
    ];
  });
};

/**
 * Broadcast add y[n, c, …] = x[n, c, …] + e[n, c] over the spatial axes (the time-embedding injection of
 * diffusers' `ResnetBlock2D`: `hidden_states + temb[:, :, None, None]`); pullback ∂x = ∂y,
 * ∂e[n, c] = Σ_spatial ∂y[n, c, …] (summed in float64). Shapes are the caller's invariant: x [N, C, *], e [N, C].
 *
 * @category Networks
 */
export const addChannelBiasNode = (tape: Tape, x: Node, e: Node): Node => {
  const [n, c] = x.value.shape;
  const spatial = x.value.data.length / (n * c);
  const y = new Float32Array(x.value.data.length);
  for (let r = 0; r < n * c; r++) {
    const v = e.value.data[r];
    for (let j = r * spatial; j < (r + 1) * spatial; j++) y[j] = x.value.data[j] + v;
  }
  return recordOp(tape, like(x.value, y), [x, e], (dy) => {
    const de = new Float32Array(n * c);
    for (let r = 0; r < n * c; r++) {
      let s = 0;
      for (let j = r * spatial; j < (r + 1) * spatial; j++) s += dy[j];
      de[r] = s;
    }
    return [dy, de];
  });
};

/**
 * Per-sample scaling y[n, …] = cₙ·x[n, …] by constants c (preconditioning: c_in(σ)·x, c_out(σ)·F); pullback
 * ∂x[n, …] = cₙ·∂y[n, …]. `c` has one entry per sample (the caller's invariant).
 *
 * @category Networks
 */
export const scaleRowsNode = (tape: Tape, x: Node, c: ArrayLike<number>): Node => {
  const rows = c.length;
  const width = x.value.data.length / rows;
  const scaleRows = (v: Float32Array): Float32Array => {
    const out = new Float32Array(v.length);
    for (let r = 0; r < rows; r++) for (let j = r * width; j < (r + 1) * width; j++) out[j] = c[r] * v[j];
    return out;
  };
  return recordOp(tape, like(x.value, scaleRows(x.value.data)), [x], (dy) => [scaleRows(dy)]);
};

/**
 * Zero padding by one row at the bottom and one column at the right, [N, C, H, W] → [N, C, H + 1, W + 1]
 * (PyTorch `F.pad(x, (0, 1, 0, 1))`, what diffusers' `Downsample2D` does before a padding-0 conv); the pullback
 * crops ∂y back to [N, C, H, W].
 *
 * @category Networks
 */
export const padBottomRightNode = (tape: Tape, x: Node): Node => {
  const [n, c, h, w] = x.value.shape;
  const y = new Float32Array(n * c * (h + 1) * (w + 1));
  for (let p = 0; p < n * c; p++)
    for (let i = 0; i < h; i++)
      y.set(x.value.data.subarray((p * h + i) * w, (p * h + i + 1) * w), (p * (h + 1) + i) * (w + 1));
  return recordOp(tape, { shape: [n, c, h + 1, w + 1], data: y }, [x], (dy) => {
    const dx = new Float32Array(n * c * h * w);
    for (let p = 0; p < n * c; p++)
      for (let i = 0; i < h; i++)
        dx.set(dy.subarray((p * (h + 1) + i) * (w + 1), (p * (h + 1) + i) * (w + 1) + w), (p * h + i) * w);
    return [dx];
  });
};

/**
 * Flattens x [N, …] to [N, D] (a view of the same data); the pullback reshapes ∂y back, i.e. passes it through.
 *
 * @category Networks
 */
export const flattenNode = (tape: Tape, x: Node): Node => {
  const n = x.value.shape[0];
  return recordOp(tape, { shape: [n, x.value.data.length / n], data: x.value.data }, [x], (dy) => [dy]);
};
