/**
 * The key of a stochastic sampler, checked at the boundary: a sampler derives the noise of step k from
 * `foldIn(key, k)` and, inside, row i of the batch from `foldIn(·, i)`, so a key must be a valid Philox key.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { RngKey } from "../core/rng.js";

/** The largest unsigned 32-bit integer, 2³² − 1. */
const MAX_UINT32 = 0xffffffff;

/** True for an integer in [0, 2³² − 1]. */
const isUint32 = (x: unknown): boolean =>
  Number.isInteger(x) && (x as number) >= 0 && (x as number) <= MAX_UINT32;

/**
 * Checks that `key` is an {@link RngKey}: a record of two unsigned 32-bit integers k0, k1 (as made by `rngKey`
 * and `foldIn`). A missing key or a non-integer word is a `Left` naming `context` and the field `key`.
 *
 * @param context - The sampler named in the error.
 * @category Samplers
 */
export const checkSamplerKey = (
  context: string,
  key: RngKey | undefined,
): E.Either<ScoreflowError, RngKey> =>
  key !== undefined && key !== null && isUint32(key.k0) && isUint32(key.k1)
    ? E.right(key)
    : E.left(
        scoreflowError(
          context,
          "key",
          key,
          "must be an RngKey (two integers k0, k1 in [0, 2³² − 1], e.g. from rngKey(seed))",
          key === undefined || key === null ? "no key" : `k0=${key.k0}, k1=${key.k1}`,
        ),
      );
