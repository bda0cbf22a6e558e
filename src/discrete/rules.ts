/**
 * Validation rules shared by the discrete-time modules: bounded integers (timestep indices, step counts). Core
 * has unbounded integer rules only.
 *
 * @module
 */
import type { NumberRule } from "../core/validate.js";

/**
 * The largest number of discrete timesteps accepted, 2²⁴: keeps a schedule's four float64 arrays under
 * 540 MB, so that a constructor fails with a message rather than an allocation error.
 *
 * @category Discrete
 */
export const MAX_DDPM_TIMESTEPS = 2 ** 24;

/**
 * The rule `x ∈ {lo, lo + 1, …, hi}` for safe integers lo ≤ hi.
 *
 * @category Discrete
 */
export const integerIn = (lo: number, hi: number): NumberRule => ({
  test: (x) => Number.isSafeInteger(x) && x >= lo && x <= hi,
  rule: `must be an integer in [${lo}, ${hi}]`,
});
