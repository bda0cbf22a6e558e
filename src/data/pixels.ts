/**
 * The one convention for pixel values: an 8-bit intensity v ∈ {0, …, 255} is the float x = v/127.5 − 1 ∈ [−1, 1]
 * (the scaling of DDPM and score_sde data pipelines), and a float goes back to the nearest byte, clamped.
 *
 * @module
 */

/**
 * The float in [−1, 1] of an intensity v ∈ [0, maxValue]: x = 2·v/maxValue − 1 (for bytes, v/127.5 − 1).
 * `maxValue` is 2^depth − 1: 255 for 8-bit, 65535 for 16-bit samples.
 *
 * Source: Ho et al. 2020, "Denoising Diffusion Probabilistic Models", §4 ("scaled linearly to [−1, 1]").
 *
 * @category Data
 */
export const intensityToUnit = (v: number, maxValue = 255): number => (2 * v) / maxValue - 1;

/**
 * The byte of a float x: clamp(round((x + 1)·127.5), 0, 255), the inverse of {@link intensityToUnit} on the
 * 256 byte values (exact round trip for float32 and float64). NaN maps to 0.
 *
 * @category Data
 */
export const unitToByte = (x: number): number => {
  const v = Math.round((x + 1) * 127.5);
  return v > 0 ? Math.min(v, 255) : 0;
};
