/**
 * Randomness as a value. A key is two 32-bit words; every draw is a pure function of (key, index) through the
 * counter-based Philox4x32-10 bijection (Salmon et al. 2011, "Parallel random numbers: as easy as 1, 2, 3",
 * SC'11, §4). Keys are derived, never mutated: `foldIn(key, i)` gives the key of sample i, `foldIn(key, k)` that
 * of step k, so the noise of sample i at step k depends on neither the batch size nor any other draw.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "./errors.js";
import { check, isNonNegativeInteger } from "./validate.js";

/**
 * A Philox key: two unsigned 32-bit words. Plain data; derive new keys with {@link foldIn}.
 *
 * @category Core
 */
export interface RngKey {
  /** Low key word, an unsigned 32-bit integer. */
  readonly k0: number;
  /** High key word, an unsigned 32-bit integer. */
  readonly k1: number;
}

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;
/** 2⁻⁵³: the spacing of the 53-bit uniform grid. */
const TWO_M53 = 2 ** -53;

/** High 32 bits of the 64-bit product a·b of two uint32s, exact in float64 arithmetic. */
const mulhi = (a: number, b: number): number => {
  const al = a & 0xffff;
  const ah = a >>> 16;
  const bl = b & 0xffff;
  const bh = b >>> 16;
  const lh = al * bh;
  const hl = ah * bl;
  const mid = ((al * bl) >>> 16) + (lh & 0xffff) + (hl & 0xffff);
  return (ah * bh + (lh >>> 16) + (hl >>> 16) + (mid >>> 16)) >>> 0;
};

/**
 * Philox4x32-10: maps a 128-bit counter (four uint32 words) under a 64-bit key to 128 random bits
 * (Salmon et al. 2011, Fig. 2 and §4.2: ten rounds of two 32×32→64 multiplications and a Weyl key schedule).
 * Writes the four output words into `out`.
 *
 * @category Core
 */
export const philox4x32 = (
  key: RngKey,
  c0: number,
  c1: number,
  c2: number,
  c3: number,
  out: Uint32Array = new Uint32Array(4),
): Uint32Array => {
  let x0 = c0 >>> 0;
  let x1 = c1 >>> 0;
  let x2 = c2 >>> 0;
  let x3 = c3 >>> 0;
  let k0 = key.k0 >>> 0;
  let k1 = key.k1 >>> 0;
  for (let round = 0; round < 10; round++) {
    const hi0 = mulhi(M0, x0);
    const lo0 = Math.imul(M0, x0) >>> 0;
    const hi1 = mulhi(M1, x2);
    const lo1 = Math.imul(M1, x2) >>> 0;
    x0 = (hi1 ^ x1 ^ k0) >>> 0;
    x1 = lo1;
    x2 = (hi0 ^ x3 ^ k1) >>> 0;
    x3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = x0;
  out[1] = x1;
  out[2] = x2;
  out[3] = x3;
  return out;
};

/** Splits a safe non-negative integer into its low and high 32-bit words. */
const words = (n: number): readonly [number, number] => [n >>> 0, Math.floor(n / 2 ** 32) >>> 0];

/**
 * The root key of a seed (a safe integer ≥ 0, up to 2⁵³ − 1).
 *
 * @category Core
 */
export const rngKey = (seed: number): E.Either<ScoreflowError, RngKey> =>
  E.map((s: number) => {
    const [k0, k1] = words(s);
    return { k0, k1 };
  })(check("rngKey", "seed", seed, isNonNegativeInteger));

/** Domain tag in the third counter word, so that key derivation never reuses a counter used by a draw. */
const FOLD_TAG = 0x5eed_f01d;

/**
 * The key derived from `key` and a non-negative integer `data` (a sample index, a step index, a purpose tag):
 * the first two words of Philox(key, [data, 0, tag, 0]). Distinct `data` give independent keys.
 *
 * @category Core
 */
export const foldIn = (key: RngKey, data: number): RngKey => {
  const [lo, hi] = words(data);
  const out = philox4x32(key, lo, hi, FOLD_TAG, 0);
  return { k0: out[0], k1: out[1] };
};

/**
 * Fills `out` with uniforms in the open interval (0, 1), 53 bits each: element j comes from counter block ⌊j/2⌋,
 * so a prefix of a longer draw equals a shorter draw.
 *
 * @category Core
 */
export const fillUniform = <A extends Float32Array | Float64Array>(key: RngKey, out: A): A => {
  const block = new Uint32Array(4);
  for (let j = 0; j < out.length; j += 2) {
    philox4x32(key, j >>> 1, 0, 0, 0, block);
    out[j] = ((block[0] >>> 5) * 67108864 + (block[1] >>> 6) + 0.5) * TWO_M53;
    if (j + 1 < out.length) out[j + 1] = ((block[2] >>> 5) * 67108864 + (block[3] >>> 6) + 0.5) * TWO_M53;
  }
  return out;
};

/**
 * Fills `out` with standard normals by the Box–Muller transform (Box & Muller 1958):
 * z₀ = √(−2 ln u₁)·cos(2π u₂), z₁ = √(−2 ln u₁)·sin(2π u₂), one pair per counter block; element j is fixed by
 * (key, j) alone.
 *
 * @category Core
 */
export const fillNormal = <A extends Float32Array | Float64Array>(key: RngKey, out: A): A => {
  const block = new Uint32Array(4);
  for (let j = 0; j < out.length; j += 2) {
    philox4x32(key, j >>> 1, 0, 0, 0, block);
    const u1 = ((block[0] >>> 5) * 67108864 + (block[1] >>> 6) + 0.5) * TWO_M53;
    const u2 = ((block[2] >>> 5) * 67108864 + (block[3] >>> 6) + 0.5) * TWO_M53;
    const r = Math.sqrt(-2 * Math.log(u1));
    const theta = 2 * Math.PI * u2;
    out[j] = r * Math.cos(theta);
    if (j + 1 < out.length) out[j + 1] = r * Math.sin(theta);
  }
  return out;
};

/**
 * Fills `out` with Rademacher signs ±1 (probability ½ each), element j from bit (j mod 32) of word ⌊j/32⌋.
 *
 * @category Core
 */
export const fillRademacher = <A extends Float32Array | Float64Array>(key: RngKey, out: A): A => {
  const block = new Uint32Array(4);
  for (let j = 0; j < out.length; j++) {
    const word = j >>> 5;
    if ((j & 127) === 0) philox4x32(key, word >>> 2, 1, 0, 0, block);
    out[j] = (block[word & 3] >>> (j & 31)) & 1 ? 1 : -1;
  }
  return out;
};

/**
 * `n` standard normals in float64 from `key`.
 *
 * @category Core
 */
export const normals = (key: RngKey, n: number): Float64Array => fillNormal(key, new Float64Array(n));

/**
 * `n` uniforms in (0, 1) in float64 from `key`.
 *
 * @category Core
 */
export const uniforms = (key: RngKey, n: number): Float64Array => fillUniform(key, new Float64Array(n));

/**
 * A batch of `rows` × `cols` standard normals where row i is drawn from `foldIn(key, i)`: row i is the same
 * whatever the number of rows, so per-sample noise never depends on the batch size.
 *
 * @category Core
 */
export const batchNormals = (key: RngKey, rows: number, cols: number): Float64Array => {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) fillNormal(foldIn(key, i), out.subarray(i * cols, (i + 1) * cols));
  return out;
};
