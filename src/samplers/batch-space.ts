/**
 * Vector spaces that know their batch axis. A `VectorSpace` combines whole states with scalar coefficients;
 * a sampler whose step size depends on each sample (the Langevin corrector of Song et al. 2021, App. G,
 * Alg. 4–5, sized from the norms of the score and the noise) also needs the rows of a batch and a per-row
 * scaling. Rows are the ones `normalLike` draws independently: row i along the first axis.
 *
 * @module
 */
import { map, type Storage, type Tensor, tensorSpace, type VectorSpace } from "../core/tensor.js";

/**
 * A {@link VectorSpace} whose states are batches of samples along a first axis: state x holds `rows(x)` samples
 * of `components(x).length / rows(x)` consecutive components each, the rows that `normalLike` draws from
 * `foldIn(key, i)`.
 *
 * @category Samplers
 */
export interface BatchSpace<V> extends VectorSpace<V> {
  /** The number of samples n ≥ 1 in x (the size of its first axis). */
  readonly rows: (x: V) => number;
  /** x with row i multiplied by `factors[i]`, for i < rows(x). */
  readonly scaleRows: (x: V, factors: ArrayLike<number>) => V;
}

/**
 * The batch space of tensors of one fixed shape [n, …]: {@link tensorSpace} with rows along the first axis.
 *
 * @category Samplers
 */
export const tensorBatchSpace = <A extends Storage>(): BatchSpace<Tensor<A>> => ({
  ...tensorSpace<A>(),
  rows: (x) => x.shape[0],
  scaleRows: (x, factors) => {
    const cols = x.data.length / x.shape[0];
    return map(x, (v, i) => v * factors[Math.floor(i / cols)]);
  },
});

/**
 * The Euclidean norm ‖x_i‖₂ of every row of a batch.
 *
 * @returns the n = `space.rows(x)` norms.
 * @category Samplers
 */
export const rowNorms = <V>(space: BatchSpace<V>, x: V): Float64Array => {
  const c = space.components(x);
  const n = space.rows(x);
  const cols = c.length / n;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = i * cols; j < (i + 1) * cols; j++) sum += c[j] * c[j];
    norms[i] = Math.sqrt(sum);
  }
  return norms;
};
