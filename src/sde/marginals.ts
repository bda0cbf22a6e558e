/**
 * Gaussian marginals and transitions of a linear SDE, and the quantities derived from them: the noise level
 * σ/s (Karras et al. 2022, Table 1), the log signal-to-noise ratio (Kingma et al. 2021, "Variational
 * Diffusion Models", eq. 1–2) and draws from the marginal.
 *
 * @module
 */
import type { RngKey } from "../core/rng.js";
import { linearCombination, normalLike, type Storage, type Tensor } from "../core/tensor.js";
import { adaptiveQuadrature } from "./quadrature.js";
import type { LinearSde } from "./types.js";

/**
 * The coefficients of a Gaussian kernel x ↦ N(scale·x, std²·I): of x_t | x₀ (a marginal) or of x_t | x_s
 * (a transition).
 *
 * @category SDEs
 */
export interface ScaleStd {
  /** Mean scale: E[x_t | x_s] = scale·x_s; > 0. */
  readonly scale: number;
  /** Standard deviation of x_t | x_s; ≥ 0. */
  readonly std: number;
}

/**
 * The noise level σ̃(t) = σ(t)/s(t): the σ of Karras et al. 2022 (Table 1, eq. 4), the standard deviation of
 * the noise on the scaled variable x_t/s(t) = x₀ + σ̃(t)·ε. t in [0, tMax]; 0 at t = 0, increasing.
 *
 * @category SDEs
 */
export const noiseLevel = (sde: LinearSde, t: number): number => sde.std(t) / sde.scale(t);

/**
 * The log signal-to-noise ratio λ(t) = log(s(t)²/σ(t)²) = 2·log(s/σ) = −2·log σ̃(t) (Kingma et al. 2021,
 * "Variational Diffusion Models", eq. 1–2; Lu et al. 2022, "DPM-Solver", §3.1 uses λ/2). t in (0, tMax];
 * +∞ at t = 0, decreasing.
 *
 * @category SDEs
 */
export const logSnr = (sde: LinearSde, t: number): number => -2 * Math.log(noiseLevel(sde, t));

/**
 * The marginal x_t | x₀ ~ N(s(t)·x₀, σ(t)²·I) of a linear SDE started at t = 0 (Song et al. 2021, App. B;
 * Särkkä & Solin 2019, §4.3 and eq. 5.50–5.51). t in [0, tMax].
 *
 * @category SDEs
 */
export const marginal = (sde: LinearSde, t: number): ScaleStd => ({ scale: sde.scale(t), std: sde.std(t) });

/**
 * The transition x_t | x_s ~ N(a·x_s, v·I) between times 0 ≤ s ≤ t ≤ tMax of a linear SDE (Särkkä & Solin
 * 2019, §4.3 and eq. 5.50–5.51): a = s(t)/s(s) and v = σ(t)² − a²σ(s)² = ∫ₛᵗ g(u)²·(s(t)/s(u))² du, so that
 * the marginals compose: scales multiply and variances add after scaling. The difference is exact only when
 * it does not cancel; when σ̃(s)² > ½σ̃(t)² (s close to t) v is integrated directly by adaptive G7–K15
 * quadrature to 10⁻¹² relative, which keeps full relative precision as s → t. s = t gives scale 1, std 0.
 *
 * @category SDEs
 */
export const transition = (sde: LinearSde, s: number, t: number): ScaleStd => {
  const scaleS = sde.scale(s);
  const scaleT = sde.scale(t);
  const scale = scaleT / scaleS;
  const stdT = sde.std(t);
  const carried = scale * sde.std(s);
  if (carried * carried <= 0.5 * stdT * stdT) {
    return { scale, std: Math.sqrt((stdT - carried) * (stdT + carried)) };
  }
  const variance = adaptiveQuadrature(
    (u) => {
      const ratio = (sde.g(u) * scaleT) / sde.scale(u);
      return ratio * ratio;
    },
    s,
    t,
    { relative: 1e-12, absolute: 0 },
  ).value;
  return { scale, std: Math.sqrt(Math.max(0, variance)) };
};

/**
 * A draw x_t = s(t)·x₀ + σ(t)·ε, ε ~ N(0, I), from the marginal of x_t given x₀ (Song et al. 2021, App. B;
 * the "reparameterization" of Ho et al. 2020, eq. 4). ε is `normalLike(key, x₀)`: row i of the batch axis is
 * drawn from `foldIn(key, i)`. t in [0, tMax]; storage (float32 or float64) follows x₀.
 *
 * @category SDEs
 */
export const sampleMarginal = <A extends Storage>(
  sde: LinearSde,
  key: RngKey,
  x0: Tensor<A>,
  t: number,
): Tensor<A> =>
  linearCombination([
    [sde.scale(t), x0],
    [sde.std(t), normalLike(key, x0)],
  ]);
