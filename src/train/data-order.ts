/**
 * A seeded, resumable minibatch order over a dataset of M examples. Epoch e visits the examples in the order of
 * the permutation π_e drawn by Fisher–Yates from `foldIn(key, e)`; batches are consecutive slices of the
 * concatenation π₀ ‖ π₁ ‖ π₂ ‖ …, so a batch that reaches the end of an epoch takes the rest of it and continues
 * with the next permutation. The position in that sequence is the whole state, `{ epoch, offset }`, plain JSON:
 * saving it and resuming gives exactly the batches of an uninterrupted run, and every epoch visits every index
 * exactly once.
 *
 * Source: Fisher & Yates (1938); Durstenfeld, "Algorithm 235: Random permutation", CACM 7(7), 1964 (the
 * in-place shuffle); Knuth, TAOCP vol. 2, §3.4.2, Algorithm P.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { fillUniform, foldIn, type RngKey } from "../core/rng.js";
import type { Storage, Tensor } from "../core/tensor.js";
import { checkAll, isNonNegativeInteger, isPositiveInteger } from "../core/validate.js";

/**
 * What fixes a minibatch order: the key of the permutations, the dataset size and the batch size.
 *
 * @category Training
 */
export interface DataOrder {
  /** The key; epoch e shuffles with `foldIn(key, e)`. */
  readonly key: RngKey;
  /** M ≥ 1, the number of examples (indices 0 … M − 1). */
  readonly examples: number;
  /** B ≥ 1, the number of indices per batch (B > M is allowed: a batch then spans several epochs). */
  readonly batchSize: number;
}

/**
 * The position in a {@link DataOrder}: the next batch starts at position `offset` of epoch `epoch`'s
 * permutation. Plain JSON, saved in checkpoints.
 *
 * @category Training
 */
export interface DataOrderState {
  /** The current epoch e, an integer ≥ 0. */
  readonly epoch: number;
  /** Examples of epoch e already used, an integer in [0, M) (an epoch that is used up rolls over to e + 1). */
  readonly offset: number;
}

/**
 * The start of every order: epoch 0, offset 0.
 *
 * @category Training
 */
export const DATA_ORDER_START: DataOrderState = { epoch: 0, offset: 0 };

/**
 * A minibatch order. Rules: `examples` (M) and `batchSize` (B) integers ≥ 1.
 *
 * @category Training
 */
export const dataOrder = (
  key: RngKey,
  examples: number,
  batchSize: number,
): E.Either<ScoreflowError, DataOrder> =>
  E.map(() => ({ key, examples, batchSize }))(
    checkAll("data order", [
      ["examples", examples, isPositiveInteger],
      ["batchSize", batchSize, isPositiveInteger],
    ]),
  );

/**
 * Checks a position read from outside (a checkpoint) against an order of M examples: `epoch` an integer ≥ 0 and
 * `offset` an integer in [0, M).
 *
 * @category Training
 */
export const dataOrderState = (
  order: DataOrder,
  state: DataOrderState,
): E.Either<ScoreflowError, DataOrderState> => {
  const context = "data order state";
  const ok = checkAll(context, [
    ["epoch", state.epoch, isNonNegativeInteger],
    ["offset", state.offset, isNonNegativeInteger],
  ]);
  if (E.isLeft(ok)) return ok;
  return state.offset < order.examples
    ? E.right({ epoch: state.epoch, offset: state.offset })
    : E.left(
        scoreflowError(
          context,
          "offset",
          state.offset,
          `must be < the number of examples M = ${order.examples}`,
        ),
      );
};

/**
 * The permutation π_e of {0, …, M − 1} for epoch e: Durstenfeld's shuffle of the identity driven by M uniforms
 * u of `foldIn(key, e)`, for i = M − 1 down to 1: j = min(i, ⌊uᵢ·(i + 1)⌋), swap πᵢ and πⱼ. Every permutation
 * has probability 1/M! up to the 53-bit resolution of u (a relative bias below M·2⁻⁵³).
 *
 * @category Training
 */
export const epochPermutation = (key: RngKey, examples: number, epoch: number): Uint32Array => {
  const u = fillUniform(foldIn(key, epoch), new Float64Array(examples));
  const pi = new Uint32Array(examples);
  for (let i = 0; i < examples; i++) pi[i] = i;
  for (let i = examples - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(u[i] * (i + 1)));
    const t = pi[i];
    pi[i] = pi[j];
    pi[j] = t;
  }
  return pi;
};

/**
 * The last permutation computed, so that the ⌈M/B⌉ batches of an epoch shuffle once rather than once each. A
 * memo of a pure function: results never depend on it, and the array never leaves this module.
 */
let memo: {
  readonly k0: number;
  readonly k1: number;
  readonly m: number;
  readonly e: number;
  pi: Uint32Array;
} = { k0: 0, k1: 0, m: 0, e: 0, pi: new Uint32Array(0) };

const permutation = (key: RngKey, m: number, e: number): Uint32Array => {
  if (memo.k0 !== key.k0 || memo.k1 !== key.k1 || memo.m !== m || memo.e !== e)
    memo = { k0: key.k0, k1: key.k1, m, e, pi: epochPermutation(key, m, e) };
  return memo.pi;
};

/**
 * A batch and the position after it.
 *
 * @category Training
 */
export interface Batch {
  /** The B example indices of the batch, in order. */
  readonly indices: Uint32Array;
  /** The position of the next batch. */
  readonly state: DataOrderState;
}

/**
 * The next batch of an order from position `state`: positions offset … offset + B − 1 of π_e ‖ π_{e+1} ‖ …, and
 * the position just after them (offset reduced below M, the epoch advanced accordingly). The state must be
 * valid for the order ({@link dataOrderState}).
 *
 * @category Training
 */
export const nextBatch = (order: DataOrder, state: DataOrderState): Batch => {
  const { key, examples: m, batchSize } = order;
  const indices = new Uint32Array(batchSize);
  let { epoch, offset } = state;
  let filled = 0;
  while (filled < batchSize) {
    const take = Math.min(batchSize - filled, m - offset);
    indices.set(permutation(key, m, epoch).subarray(offset, offset + take), filled);
    filled += take;
    offset += take;
    if (offset === m) {
      epoch += 1;
      offset = 0;
    }
  }
  return { indices, state: { epoch, offset } };
};

/**
 * Rows `indices` of a tensor [M, …] as a new tensor [B, …] (same storage type): row r of the result is row
 * indices[r] of `x`. Indices must lie in [0, M); B ≥ 1.
 *
 * @category Training
 */
export const gatherRows = <A extends Storage>(x: Tensor<A>, indices: ArrayLike<number>): Tensor<A> => {
  const rowSize = x.data.length / x.shape[0];
  const data = (
    x.data instanceof Float32Array
      ? new Float32Array(indices.length * rowSize)
      : new Float64Array(indices.length * rowSize)
  ) as A;
  for (let r = 0; r < indices.length; r++)
    data.set(x.data.subarray(indices[r] * rowSize, (indices[r] + 1) * rowSize), r * rowSize);
  return { shape: [indices.length, ...x.shape.slice(1)], data };
};
