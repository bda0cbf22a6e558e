/**
 * A tensor is plain data: a shape and a flat typed array in row-major order (NCHW for images, `[n, d]` for a
 * batch of points). Network tensors are float32; exact math (schedules, oracle tests) uses float64 tensors.
 * Tensors are immutable by convention: every function here returns a new array.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "./errors.js";
import { fillNormal, foldIn, type RngKey } from "./rng.js";

/**
 * The storage of a tensor: float32 for networks, float64 for exact math.
 *
 * @category Core
 */
export type Storage = Float32Array | Float64Array;

/**
 * A shape and a row-major buffer whose length is the product of the shape.
 *
 * @category Core
 */
export interface Tensor<A extends Storage = Float32Array> {
  /** Sizes of the axes, outermost first. */
  readonly shape: readonly number[];
  /** Row-major values; `data.length === size(shape)`. */
  readonly data: A;
}

/**
 * A float64 tensor, used for exact computations and low-dimensional data (`[n, d]`).
 *
 * @category Core
 */
export type Tensor64 = Tensor<Float64Array>;

/**
 * Number of elements of a shape: the product of its sizes (1 for a scalar shape `[]`).
 *
 * @category Core
 */
export const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Builds a tensor after checking that every axis is a positive integer, that the buffer length matches the
 * shape, and that every value is finite.
 *
 * @category Core
 */
export const tensor = <A extends Storage>(
  shape: readonly number[],
  data: A,
): E.Either<ScoreflowError, Tensor<A>> => {
  const bad = shape.findIndex((n) => !Number.isSafeInteger(n) || n < 1);
  if (shape.length === 0 || bad >= 0) {
    return E.left(scoreflowError("tensor", "shape", shape, "must be a non-empty list of integers ≥ 1"));
  }
  if (data.length !== size(shape)) {
    return E.left(
      scoreflowError(
        "tensor",
        "data",
        data.length,
        `length must equal the product of the shape [${shape.join(", ")}] = ${size(shape)}`,
        `data.length=${data.length}`,
      ),
    );
  }
  const nonFinite = firstNonFinite(data);
  if (nonFinite >= 0) {
    return E.left(scoreflowError("tensor", `data[${nonFinite}]`, data[nonFinite], "must be finite"));
  }
  return E.right({ shape: [...shape], data });
};

/**
 * A float64 tensor of zeros of the given shape.
 *
 * @category Core
 */
export const zeros64 = (shape: readonly number[]): Tensor64 => ({
  shape: [...shape],
  data: new Float64Array(size(shape)),
});

/**
 * A float32 tensor of zeros of the given shape.
 *
 * @category Core
 */
export const zeros32 = (shape: readonly number[]): Tensor => ({
  shape: [...shape],
  data: new Float32Array(size(shape)),
});

/** A new, zeroed buffer of the same type and length as `a`. */
const like = <A extends Storage>(a: A): A =>
  (a instanceof Float32Array ? new Float32Array(a.length) : new Float64Array(a.length)) as A;

/**
 * Elementwise map of a tensor, keeping its storage type.
 *
 * @category Core
 */
export const map = <A extends Storage>(x: Tensor<A>, f: (v: number, i: number) => number): Tensor<A> => {
  const out = like(x.data);
  for (let i = 0; i < out.length; i++) out[i] = f(x.data[i], i);
  return { shape: x.shape, data: out };
};

/**
 * The linear combination Σ cᵢ·xᵢ of tensors of one shape (the single primitive the solvers need; `axpy`,
 * `add` and `scale` are special cases). Accumulates in float64 before storing.
 *
 * @category Core
 */
export const linearCombination = <A extends Storage>(
  terms: ReadonlyArray<readonly [coefficient: number, x: Tensor<A>]>,
): Tensor<A> => {
  const first = terms[0][1];
  const out = like(first.data);
  for (let i = 0; i < out.length; i++) {
    let acc = 0;
    for (const [c, x] of terms) acc += c * x.data[i];
    out[i] = acc;
  }
  return { shape: first.shape, data: out };
};

/**
 * A real vector space over a state type `V`: what a solver needs to know about its state and nothing more.
 * Instances are plain records, passed to the functions that need them (the fp-ts way).
 *
 * @category Core
 */
export interface VectorSpace<V> {
  /** Σ cᵢ·xᵢ over the given (coefficient, vector) pairs; at least one term. */
  readonly combine: (terms: ReadonlyArray<readonly [coefficient: number, x: V]>) => V;
  /** The components of `x`, read-only, for norms and finiteness checks. */
  readonly components: (x: V) => ArrayLike<number>;
  /**
   * A standard normal vector shaped like `x`, fixed by `key`. For batched tensors, row i along the first
   * (batch) axis is drawn from `foldIn(key, i)`, so a sample's noise never depends on the batch size.
   */
  readonly normalLike: (key: RngKey, x: V) => V;
}

/**
 * Standard normal noise shaped like `x`; row i of the first axis is drawn from `foldIn(key, i)`.
 *
 * @category Core
 */
export const normalLike = <A extends Storage>(key: RngKey, x: Tensor<A>): Tensor<A> => {
  const out = like(x.data);
  const rows = x.shape[0];
  const cols = out.length / rows;
  for (let i = 0; i < rows; i++) fillNormal(foldIn(key, i), out.subarray(i * cols, (i + 1) * cols));
  return { shape: x.shape, data: out };
};

/**
 * The vector space of tensors of one fixed shape (float32 or float64 storage).
 *
 * @category Core
 */
export const tensorSpace = <A extends Storage>(): VectorSpace<Tensor<A>> => ({
  combine: linearCombination,
  components: (x) => x.data,
  normalLike,
});

/**
 * The vector space of plain `Float64Array`s, for scalar and low-dimensional exact problems.
 *
 * @category Core
 */
export const float64Space: VectorSpace<Float64Array> = {
  combine: (terms) => {
    const out = new Float64Array(terms[0][1].length);
    for (const [c, x] of terms) for (let i = 0; i < out.length; i++) out[i] += c * x[i];
    return out;
  },
  components: (x) => x,
  normalLike: (key, x) => fillNormal(key, new Float64Array(x.length)),
};

/**
 * `a·x + y` in any vector space.
 *
 * @category Core
 */
export const axpy = <V>(space: VectorSpace<V>, a: number, x: V, y: V): V =>
  space.combine([
    [a, x],
    [1, y],
  ]);

/**
 * `a·x` in any vector space.
 *
 * @category Core
 */
export const scale = <V>(space: VectorSpace<V>, a: number, x: V): V => space.combine([[a, x]]);

/**
 * The index of the first non-finite value of `data`, or −1 when all are finite. One branch-free pass first:
 * v·0 is ±0 for finite v and NaN for ±∞ and NaN (IEEE 754-2019 §7.2, 0·∞ is invalid), so four running sums of
 * v·0 stay 0 exactly when every value is finite (twice as fast in V8 as testing each value); the index is
 * searched for only when the pass fails.
 *
 * @category Core
 */
export const firstNonFinite = (data: ArrayLike<number>): number => {
  const n = data.length;
  const m = n - (n % 4);
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < m; i += 4) {
    s0 += data[i] * 0;
    s1 += data[i + 1] * 0;
    s2 += data[i + 2] * 0;
    s3 += data[i + 3] * 0;
  }
  for (let i = m; i < n; i++) s0 += data[i] * 0;
  if (s0 + s1 + s2 + s3 === 0) return -1;
  for (let i = 0; i < n; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
};

/**
 * True when every component of `x` is finite.
 *
 * @category Core
 */
export const allFinite = <V>(space: VectorSpace<V>, x: V): boolean => firstNonFinite(space.components(x)) < 0;
