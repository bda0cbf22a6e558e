/**
 * The vocabulary networks are written in: a record of ops over values of some type V. A network's forward pass
 * (`Network.apply`) is one function of these ops, so the same definition runs wherever the ops are implemented:
 * on a {@link Tape} of host tensors with pullbacks ({@link tapeOps}, every backend's CPU path and training), or on
 * GPU buffers that never leave the device until the end (`webgpuOps`). The parameters enter through a lookup of
 * the same value type.
 *
 * Source: the "tagless final" encoding of an embedded language (Carette, Kiselyov & Shan, "Finally tagless,
 * partially evaluated", JFP 19(5), 2009): one term, several interpretations.
 *
 * @module
 */
import type { Tensor } from "../core/tensor.js";
import type { AttentionOptions } from "./attention-shape.js";
import type { Conv2dOptions } from "./conv2d-shape.js";
import { type FourierFeaturesOptions, fourierFeatures, fourierFeaturesBackward } from "./embedding.js";
import type { GroupNormOptions } from "./group-norm-shape.js";
import {
  addChannelBiasNode,
  addNode,
  attentionNode,
  concatNode,
  conv2dNode,
  flattenNode,
  groupNormNode,
  linearNode,
  padBottomRightNode,
  scaleRowsNode,
  siluNode,
  upsampleNode,
} from "./layers.js";
import { constantNode, must, type Node, recordOp, type Tape } from "./tape.js";

/**
 * The parameters of one attention block, named as in diffusers' state dicts: each a [weight [C, C], bias [C]]
 * pair.
 *
 * @category Networks
 */
export interface AttentionParameters<V> {
  /** `to_q` weight and bias. */
  readonly toQ: readonly [weight: V, bias: V];
  /** `to_k` weight and bias. */
  readonly toK: readonly [weight: V, bias: V];
  /** `to_v` weight and bias. */
  readonly toV: readonly [weight: V, bias: V];
  /** `to_out.0` weight and bias. */
  readonly toOut: readonly [weight: V, bias: V];
}

/**
 * The ops of a network's forward pass over values V. Shapes are the caller's invariants (a network checks its
 * input once, see `forwardNetwork`); an implementation reports a broken one by raising through `must`.
 *
 * @category Networks
 */
export interface NetOps<V> {
  /** The shape of a value. */
  readonly shape: (x: V) => readonly number[];
  /** A constant input (data, embeddings of t); no gradient. */
  readonly constant: (t: Tensor) => V;
  /** y = conv2d(x, w) + b (PyTorch `Conv2d`). */
  readonly conv2d: (x: V, w: V, b: V, options: Conv2dOptions) => V;
  /** y = x·Wᵀ + b over the last axis (PyTorch `Linear`). */
  readonly linear: (x: V, w: V, b: V) => V;
  /** Group normalization with affine γ, β (PyTorch `GroupNorm`). */
  readonly groupNorm: (x: V, gamma: V, beta: V, options: GroupNormOptions) => V;
  /** SiLU y = x·σ(x). */
  readonly silu: (x: V) => V;
  /** y = a + b, equal shapes. */
  readonly add: (a: V, b: V) => V;
  /** y = cat(xs, dim = 1). */
  readonly concat: (xs: readonly V[]) => V;
  /** Nearest-neighbour 2× upsampling of [N, C, H, W]. */
  readonly upsample: (x: V) => V;
  /** Zero padding by one row at the bottom and one column at the right: [N, C, H, W] → [N, C, H + 1, W + 1]. */
  readonly padBottomRight: (x: V) => V;
  /** [N, …] → [N, D], the same values. */
  readonly flatten: (x: V) => V;
  /** Spatial multi-head self-attention with residual: (z(x) + r)/f (see `attention-shape.ts`). */
  readonly attention: (x: V, weights: AttentionParameters<V>, residual: V, options: AttentionOptions) => V;
  /** y[n, c, …] = x[n, c, …] + e[n, c] over the spatial axes. */
  readonly addChannelBias: (x: V, e: V) => V;
  /** y[n, …] = cₙ·x[n, …], one constant per sample. */
  readonly scaleRows: (x: V, c: ArrayLike<number>) => V;
  /** Gaussian Fourier features [sin 2πuw, cos 2πuw] of per-sample scalars u (see `fourierFeatures`). */
  readonly fourierFeatures: (t: Float64Array, w: V, options: FourierFeaturesOptions) => V;
}

/**
 * Looks up a parameter by its state-dict name during a forward pass.
 *
 * @category Networks
 */
export type ParameterLookup<V = Node> = (name: string) => V;

/**
 * The ops on a tape: each runs the checked kernel entry point on host tensors and, when the tape records,
 * keeps its pullback (see `layers.ts`).
 *
 * @category Networks
 */
export const tapeOps = (tape: Tape): NetOps<Node> => ({
  shape: (x) => x.value.shape,
  constant: (t) => constantNode(tape, t),
  conv2d: (x, w, b, options) => conv2dNode(tape, x, w, b, options),
  linear: (x, w, b) => linearNode(tape, x, w, b),
  groupNorm: (x, gamma, beta, options) => groupNormNode(tape, x, gamma, beta, options),
  silu: (x) => siluNode(tape, x),
  add: (a, b) => addNode(tape, a, b),
  concat: (xs) => concatNode(tape, xs),
  upsample: (x) => upsampleNode(tape, x),
  padBottomRight: (x) => padBottomRightNode(tape, x),
  flatten: (x) => flattenNode(tape, x),
  attention: (x, weights, residual, options) => attentionNode(tape, x, weights, residual, options),
  addChannelBias: (x, e) => addChannelBiasNode(tape, x, e),
  scaleRows: (x, c) => scaleRowsNode(tape, x, c),
  fourierFeatures: (t, w, options) => {
    const e = must(fourierFeatures(t, w.value, options));
    return recordOp(tape, e, [w], (de) => [
      must(fourierFeaturesBackward(t, w.value, { shape: e.shape, data: de }, options)).data,
    ]);
  },
});
