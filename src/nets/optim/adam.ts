/**
 * Adam and AdamW as pure functions on parameter maps: the optimizer state (step count, first and second moment
 * estimates) is a plain record, and a step returns new parameters and a new state without touching its inputs.
 * The arithmetic is PyTorch's `torch.optim.Adam` / `torch.optim.AdamW` with `amsgrad=False`, element by element
 * in float64, stored in float32 like the parameters.
 *
 * Sources: Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1; Loshchilov &
 * Hutter, "Decoupled Weight Decay Regularization", ICLR 2019, Algorithm 2; the algorithm boxes of PyTorch's
 * `Adam` and `AdamW` documentation.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../../core/errors.js";
import type { Tensor } from "../../core/tensor.js";
import { checkAll, isNonNegative, isPositive, type NumberRule } from "../../core/validate.js";
import type { Parameters } from "../network.js";
import type { Gradients } from "../tape.js";

/**
 * Hyper-parameters of Adam (L2 weight decay) or AdamW (decoupled weight decay).
 *
 * @category Training
 */
export interface AdamConfig {
  /** Learning rate γ > 0 (finite); PyTorch's default 10⁻³. */
  readonly lr: number;
  /** β₁ ∈ [0, 1), decay of the first-moment estimate; default 0.9. */
  readonly beta1: number;
  /** β₂ ∈ [0, 1), decay of the second-moment estimate; default 0.999. */
  readonly beta2: number;
  /** ε > 0 added to √v̂ in the denominator; default 10⁻⁸. */
  readonly eps: number;
  /** Weight decay λ ≥ 0; default 0 for Adam, 0.01 for AdamW. */
  readonly weightDecay: number;
  /** False: Adam, g ← g + λ·θ (L2 penalty). True: AdamW, θ ← θ·(1 − γ·λ) before the Adam update. */
  readonly decoupled: boolean;
}

/** β ∈ [0, 1): the half-open interval PyTorch checks for its betas. */
const isBeta: NumberRule = {
  test: (x) => typeof x === "number" && x >= 0 && x < 1,
  rule: "must lie in the half-open interval [0, 1)",
};

/** Fills the defaults and checks every field; `context` names Adam or AdamW in the error. */
const validated = (
  context: string,
  defaults: AdamConfig,
  partial: Partial<AdamConfig>,
): E.Either<ScoreflowError, AdamConfig> => {
  const config: AdamConfig = {
    lr: partial.lr ?? defaults.lr,
    beta1: partial.beta1 ?? defaults.beta1,
    beta2: partial.beta2 ?? defaults.beta2,
    eps: partial.eps ?? defaults.eps,
    weightDecay: partial.weightDecay ?? defaults.weightDecay,
    decoupled: partial.decoupled ?? defaults.decoupled,
  };
  return E.map(() => config)(
    checkAll(context, [
      ["lr", config.lr, isPositive],
      ["beta1", config.beta1, isBeta],
      ["beta2", config.beta2, isBeta],
      ["eps", config.eps, isPositive],
      ["weightDecay", config.weightDecay, isNonNegative],
    ]),
  );
};

/**
 * An Adam configuration: the given fields over PyTorch's `torch.optim.Adam` defaults (lr = 10⁻³,
 * (β₁, β₂) = (0.9, 0.999), ε = 10⁻⁸, λ = 0, coupled L2 decay). Checks lr > 0 finite, β₁, β₂ ∈ [0, 1), ε > 0,
 * λ ≥ 0.
 *
 * Source: PyTorch `torch.optim.Adam` (its argument checks and defaults); Kingma & Ba (2015), §2 (the defaults).
 *
 * @category Training
 */
export const adamConfig = (partial: Partial<AdamConfig> = {}): E.Either<ScoreflowError, AdamConfig> =>
  validated(
    "Adam",
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, decoupled: false },
    partial,
  );

/**
 * An AdamW configuration: the given fields over PyTorch's `torch.optim.AdamW` defaults (lr = 10⁻³,
 * (β₁, β₂) = (0.9, 0.999), ε = 10⁻⁸, λ = 0.01, decoupled decay). Same checks as {@link adamConfig}.
 *
 * Source: PyTorch `torch.optim.AdamW`; Loshchilov & Hutter (2019), Algorithm 2.
 *
 * @category Training
 */
export const adamWConfig = (partial: Partial<AdamConfig> = {}): E.Either<ScoreflowError, AdamConfig> =>
  validated(
    "AdamW",
    { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, decoupled: true },
    partial,
  );

/**
 * The state of Adam after t steps: t and the moment estimates m_t, v_t of every parameter (float32, like
 * PyTorch's `exp_avg` and `exp_avg_sq`).
 *
 * @category Training
 */
export interface AdamState {
  /** t, the number of steps taken (0 before the first); the bias corrections use 1 − β₁ᵗ, 1 − β₂ᵗ. */
  readonly step: number;
  /** First-moment estimates m_t = β₁·m_{t−1} + (1 − β₁)·g_t, by parameter name. */
  readonly m: Parameters;
  /** Second-moment estimates v_t = β₂·v_{t−1} + (1 − β₂)·g_t², by parameter name. */
  readonly v: Parameters;
}

/** A float32 tensor of zeros shaped like `x`. */
const zerosLike = (x: Tensor): Tensor => ({ shape: x.shape, data: new Float32Array(x.data.length) });

/**
 * The initial Adam state for `params`: t = 0 and m₀ = v₀ = 0 for every parameter.
 *
 * Source: Kingma & Ba (2015), Algorithm 1 (initialization).
 *
 * @category Training
 */
export const adamInit = (params: Parameters): AdamState => ({
  step: 0,
  m: new Map([...params].map(([name, p]) => [name, zerosLike(p)])),
  v: new Map([...params].map(([name, p]) => [name, zerosLike(p)])),
});

/**
 * What an optimizer step returns: the new parameters and the new optimizer state.
 *
 * @category Training
 */
export interface AdamStepResult {
  /** The updated parameters (a new map; frozen parameters are the same tensors as in the input). */
  readonly params: Parameters;
  /** The state after this step. */
  readonly state: AdamState;
}

/**
 * One Adam (or AdamW) step, t ← t + 1, exactly as PyTorch's algorithm box with amsgrad off, per element:
 *
 *   AdamW: θ ← θ·(1 − γ·λ);   Adam: g ← g + λ·θ
 *   m ← β₁·m + (1 − β₁)·g,   v ← β₂·v + (1 − β₂)·g²
 *   θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * `lr` overrides `config.lr` for this step (a learning-rate schedule), in the decay term too. A parameter with
 * no gradient in `grads` (frozen) passes through unchanged and keeps its moments. Gradients must have their
 * parameter's shape. The step count t is shared by all parameters (PyTorch keeps one per parameter; they differ
 * only for a parameter frozen on some steps and trained on others). A moment missing from `state` counts as 0.
 * The update reads the float32-stored m and v, as PyTorch does.
 *
 * Sources: Kingma & Ba (2015), Algorithm 1 (with the ε placement of PyTorch); Loshchilov & Hutter (2019),
 * Algorithm 2, line 12; PyTorch `torch.optim.Adam` / `AdamW` documentation.
 *
 * @category Training
 */
export const adamStep = (
  config: AdamConfig,
  state: AdamState,
  params: Parameters,
  grads: Gradients,
  lr: number = config.lr,
): AdamStepResult => {
  const { beta1, beta2, eps, weightDecay, decoupled } = config;
  const t = state.step + 1;
  const stepSize = lr / (1 - beta1 ** t);
  const bias2Sqrt = Math.sqrt(1 - beta2 ** t);
  const shrink = decoupled ? 1 - lr * weightDecay : 1;
  const l2 = decoupled ? 0 : weightDecay;
  const nextParams = new Map<string, Tensor>();
  const nextM = new Map<string, Tensor>(state.m);
  const nextV = new Map<string, Tensor>(state.v);
  for (const [name, p] of params) {
    const g = grads.get(name);
    if (g === undefined) {
      nextParams.set(name, p);
      continue;
    }
    const n = p.data.length;
    const m0 = state.m.get(name)?.data ?? new Float32Array(n);
    const v0 = state.v.get(name)?.data ?? new Float32Array(n);
    const theta = new Float32Array(n);
    const m = new Float32Array(n);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const gi = g.data[i] + l2 * p.data[i];
      m[i] = beta1 * m0[i] + (1 - beta1) * gi;
      v[i] = beta2 * v0[i] + (1 - beta2) * gi * gi;
      theta[i] = p.data[i] * shrink - (stepSize * m[i]) / (Math.sqrt(v[i]) / bias2Sqrt + eps);
    }
    nextParams.set(name, { shape: p.shape, data: theta });
    nextM.set(name, { shape: p.shape, data: m });
    nextV.set(name, { shape: p.shape, data: v });
  }
  return { params: nextParams, state: { step: t, m: nextM, v: nextV } };
};
