/**
 * Two-dimensional toy distributions, the standard test beds of density models and diffusion samplers, after the
 * FFJORD definitions (Grathwohl et al. 2019, "FFJORD: Free-form Continuous Dynamics for Scalable Reversible
 * Generative Models", ICLR; rtqichen/ffjord `lib/toy_data.py`, which uses scikit-learn's `make_swiss_roll` and
 * `make_moons`), with their scales.
 *
 * Every sampler is `(key, n) => Tensor` of shape [n, 2] (float32, computed in float64). Point i is a function of
 * `foldIn(key, i)` alone: its uniforms come from `foldIn(foldIn(key, i), 0)` and its normals from
 * `foldIn(foldIn(key, i), 1)`. Hence the same key gives the same points, and the first m rows of a draw of n ≥ m
 * points equal a draw of m points. Each point is drawn independently, so the discrete choices the references make
 * by construction (scikit-learn's evenly spaced moon angles and equal halves, FFJORD's exactly n/5 points per
 * pinwheel arm) are drawn at random here: the same distribution, without the n-dependent layout.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { fillNormal, fillUniform, foldIn, type RngKey } from "../core/rng.js";
import type { Tensor } from "../core/tensor.js";
import { check, isPositiveInteger } from "../core/validate.js";

/**
 * A toy sampler: `n ≥ 1` points of a 2-D distribution as a float32 tensor [n, 2]; row i depends only on
 * `foldIn(key, i)`, so equal keys give equal points and a shorter draw is a prefix of a longer one.
 *
 * @category Data
 */
export type ToySampler = (key: RngKey, n: number) => Tensor;

/**
 * Builds a sampler from the map of one point: `point(u, z)` returns (x, y) from this row's uniforms u ∈ (0, 1)
 * and standard normals z.
 */
const perRow =
  (
    uniformCount: number,
    normalCount: number,
    point: (u: Float64Array, z: Float64Array) => readonly [number, number],
  ): ToySampler =>
  (key, n) => {
    const data = new Float32Array(2 * n);
    const u = new Float64Array(uniformCount);
    const z = new Float64Array(normalCount);
    for (let i = 0; i < n; i++) {
      const rowKey = foldIn(key, i);
      fillUniform(foldIn(rowKey, 0), u);
      fillNormal(foldIn(rowKey, 1), z);
      const [x, y] = point(u, z);
      data[2 * i] = x;
      data[2 * i + 1] = y;
    }
    return { shape: [n, 2], data };
  };

/** The index ⌊k·u⌋ ∈ {0, …, k − 1} of a uniform u ∈ (0, 1) (clamped: k·u may round up to k). */
const choose = (k: number, u: number): number => Math.min(k - 1, Math.floor(k * u));

/**
 * The checkerboard: x₁ ~ U[−2, 2), x₂ = v − 2b + (⌊x₁⌋ mod 2) with v ~ U[0, 1) and b ∈ {0, 1} fair, and the point
 * 2·(x₁, x₂). Uniform on the eight 2 × 2 squares of [−4, 4]² whose cell indices (⌊x/2⌋, ⌊y/2⌋) have an even sum;
 * each coordinate is marginally U[−4, 4] (mean 0, variance 16/3).
 *
 * Source: rtqichen/ffjord `lib/toy_data.py`, `"checkerboard"`.
 *
 * @category Data
 */
export const checkerboard: ToySampler = perRow(3, 0, (u) => {
  const x1 = 4 * u[0] - 2;
  const parity = ((Math.floor(x1) % 2) + 2) % 2;
  const x2 = u[1] - 2 * choose(2, u[2]) + parity;
  return [2 * x1, 2 * x2];
});

/**
 * The Swiss roll, projected on its (x, z) plane and scaled by 1/5: t = 1.5π·(1 + 2u) with u ~ U(0, 1), and the
 * point ((t·cos t + ε₁)/5, (t·sin t + ε₂)/5) with ε ~ N(0, I) (noise 1.0). Mean (2/5, 2/(15π)).
 *
 * Source: rtqichen/ffjord `lib/toy_data.py`, `"swissroll"` (scikit-learn `make_swiss_roll(noise=1.0)[:, [0, 2]] / 5`).
 *
 * @category Data
 */
export const swissRoll: ToySampler = perRow(1, 2, (u, z) => {
  const t = 1.5 * Math.PI * (1 + 2 * u[0]);
  return [(t * Math.cos(t) + z[0]) / 5, (t * Math.sin(t) + z[1]) / 5];
});

/**
 * Two interleaved half circles: with θ ~ U(0, π) and a fair choice of moon, the upper moon (cos θ, sin θ) or the
 * lower one (1 − cos θ, 1/2 − sin θ), plus N(0, 0.1²·I) noise, then mapped by p ↦ 2p + (−1, −0.2).
 * Mean (0, 0.3).
 *
 * Source: rtqichen/ffjord `lib/toy_data.py`, `"moons"` (scikit-learn `make_moons(noise=0.1)`), with the angle drawn
 * at random instead of on an evenly spaced grid.
 *
 * @category Data
 */
export const twoMoons: ToySampler = perRow(2, 2, (u, z) => {
  const theta = Math.PI * u[1];
  const upper = choose(2, u[0]) === 0;
  const px = (upper ? Math.cos(theta) : 1 - Math.cos(theta)) + 0.1 * z[0];
  const py = (upper ? Math.sin(theta) : 0.5 - Math.sin(theta)) + 0.1 * z[1];
  return [2 * px - 1, 2 * py - 0.2];
});

/** The eight unit directions of `"8gaussians"`, in the reference's order. */
const EIGHT_DIRECTIONS: ReadonlyArray<readonly [number, number]> = [
  [1, 0],
  [-1, 0],
  [0, 1],
  [0, -1],
  [Math.SQRT1_2, Math.SQRT1_2],
  [Math.SQRT1_2, -Math.SQRT1_2],
  [-Math.SQRT1_2, Math.SQRT1_2],
  [-Math.SQRT1_2, -Math.SQRT1_2],
];

/** The reference divides by the literal 1.414, not by √2; kept for the same scale. */
// biome-ignore lint/suspicious/noApproximativeNumericConstant: FFJORD's literal, not √2
const EIGHT_GAUSSIANS_DIVISOR = 1.414;

/**
 * Eight Gaussians on a circle: a direction d_k of the eight compass points chosen uniformly, and the point
 * (4·d_k + 0.5·ε)/1.414 with ε ~ N(0, I). Mean 0, per-axis variance (8 + 0.25)/1.414².
 *
 * Source: rtqichen/ffjord `lib/toy_data.py`, `"8gaussians"`.
 *
 * @category Data
 */
export const eightGaussians: ToySampler = perRow(1, 2, (u, z) => {
  const [dx, dy] = EIGHT_DIRECTIONS[choose(8, u[0])];
  return [(4 * dx + 0.5 * z[0]) / EIGHT_GAUSSIANS_DIVISOR, (4 * dy + 0.5 * z[1]) / EIGHT_GAUSSIANS_DIVISOR];
});

/**
 * The pinwheel: an arm c ∈ {0, …, 4} chosen uniformly, features f = (1 + 0.3·ε₁, 0.1·ε₂) with ε ~ N(0, I), the
 * angle a = 2πc/5 + 0.25·exp(f₁), and the point 2·(f₁·cos a + f₂·sin a, −f₁·sin a + f₂·cos a) (the reference's
 * `einsum("ti,tij->tj", f, R)` with R = [[cos a, −sin a], [sin a, cos a]]). Mean 0, covariance 2.2·I (five-fold
 * symmetry makes it isotropic; E|p|² = 4·(1 + 0.3² + 0.1²)).
 *
 * Source: rtqichen/ffjord `lib/toy_data.py`, `"pinwheel"` (radial std 0.3, tangential std 0.1, 5 arms, rate 0.25),
 * with the arm drawn per point instead of n/5 points per arm.
 *
 * @category Data
 */
export const pinwheel: ToySampler = perRow(1, 2, (u, z) => {
  const f1 = 1 + 0.3 * z[0];
  const f2 = 0.1 * z[1];
  const a = (2 * Math.PI * choose(5, u[0])) / 5 + 0.25 * Math.exp(f1);
  const c = Math.cos(a);
  const s = Math.sin(a);
  return [2 * (f1 * c + f2 * s), 2 * (-f1 * s + f2 * c)];
});

/**
 * The names of the toy distributions accepted by {@link toyDataset}.
 *
 * @category Data
 */
export type ToyName = "checkerboard" | "swissRoll" | "twoMoons" | "eightGaussians" | "pinwheel";

/**
 * Every toy sampler by name.
 *
 * @category Data
 */
export const TOYS: Readonly<Record<ToyName, ToySampler>> = {
  checkerboard,
  swissRoll,
  twoMoons,
  eightGaussians,
  pinwheel,
};

/**
 * The toy names, in a fixed order (for menus, command lines and loops over all toys).
 *
 * @category Data
 */
export const TOY_NAMES: readonly ToyName[] = [
  "checkerboard",
  "swissRoll",
  "twoMoons",
  "eightGaussians",
  "pinwheel",
];

/**
 * True when `name` is one of {@link TOY_NAMES}.
 *
 * @category Data
 */
export const isToyName = (name: string): name is ToyName => (TOY_NAMES as readonly string[]).includes(name);

/**
 * `n` points of the toy distribution called `name` (one of {@link TOY_NAMES}, e.g. from a command line) as a
 * float32 tensor [n, 2]; Left when the name is unknown or n is not an integer ≥ 1.
 *
 * @category Data
 */
export const toyDataset = (name: string, key: RngKey, n: number): E.Either<ScoreflowError, Tensor> =>
  !isToyName(name)
    ? E.left(scoreflowError("toyDataset", "name", name, `must be one of ${TOY_NAMES.join(", ")}`))
    : E.map((count: number) => TOYS[name](key, count))(check("toyDataset", "n", n, isPositiveInteger));
