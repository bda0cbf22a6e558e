/**
 * A residual MLP score network for low-dimensional data (2-D toys, Gaussian mixtures): the noise input c is
 * embedded by Gaussian Fourier features and a two-layer time MLP, and injected into every residual block, the way
 * a U-Net's ResNet blocks take their time embedding:
 *   e = [sin 2πcw, cos 2πcw] (w ~ N(0, s²), frozen),   τ = W₂·SiLU(W₁e + b₁) + b₂,
 *   h₀ = W_in·x + b_in + τ,
 *   hₖ₊₁ = hₖ + L₂ₖ(SiLU(L₁ₖ(SiLU(hₖ)) + Pₖ·SiLU(τ))),   k = 0 … B − 1,
 *   y = W_out·SiLU(h_B) + b_out.
 *
 * Source: He et al., "Identity Mappings in Deep Residual Networks", ECCV 2016 (pre-activation blocks); Tancik et
 * al., NeurIPS 2020 (Fourier features); Ho et al. 2020, Appendix B (time embedding added in each block).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { ScoreflowError } from "../core/errors.js";
import { checkAll, isNonNegativeInteger, isPositive, isPositiveInteger } from "../core/validate.js";
import { layerParameterSpecs, type Network, type ParameterSpec } from "./network.js";
import type { NetOps, ParameterLookup } from "./ops.js";

/**
 * Configuration of the MLP score network.
 *
 * @category Networks
 */
export interface MlpConfig {
  /** Data dimension D ≥ 1 (inputs and outputs are [N, D]). */
  readonly dataDim: number;
  /** Hidden width W ≥ 1. */
  readonly width: number;
  /** Residual blocks B ≥ 0. */
  readonly blocks: number;
  /** Fourier frequencies E ≥ 1 (the embedding has 2E features). */
  readonly frequencies: number;
  /** Standard deviation s > 0 of the frequencies w, in cycles per unit of the noise input. */
  readonly fourierScale: number;
}

const CONTEXT = "MLP config";

/**
 * Validates an MLP configuration; defaults: width 128, 3 blocks, 16 frequencies of scale 1 (suited to noise
 * inputs of order 1, such as t ∈ [0, 1] or EDM's c_noise = ¼ ln σ).
 *
 * @category Networks
 */
export const mlpConfig = (
  config: Pick<MlpConfig, "dataDim"> & Partial<MlpConfig>,
): E.Either<ScoreflowError, MlpConfig> => {
  const c: MlpConfig = { width: 128, blocks: 3, frequencies: 16, fourierScale: 1, ...config };
  return E.map(() => c)(
    checkAll(CONTEXT, [
      ["dataDim", c.dataDim, isPositiveInteger],
      ["width", c.width, isPositiveInteger],
      ["blocks", c.blocks, isNonNegativeInteger],
      ["frequencies", c.frequencies, isPositiveInteger],
      ["fourierScale", c.fourierScale, isPositive],
    ]),
  );
};

const parameterSpecs = (c: MlpConfig): ParameterSpec[] => [
  {
    name: "time_proj.weight",
    shape: [c.frequencies],
    init: { kind: "normal", std: c.fourierScale },
    trainable: false,
  },
  ...layerParameterSpecs("time_embedding.linear_1", [c.width, 2 * c.frequencies]),
  ...layerParameterSpecs("time_embedding.linear_2", [c.width, c.width]),
  ...layerParameterSpecs("input", [c.width, c.dataDim]),
  ...Array.from({ length: c.blocks }, (_, k) => [
    ...layerParameterSpecs(`blocks.${k}.linear_1`, [c.width, c.width]),
    ...layerParameterSpecs(`blocks.${k}.time_emb_proj`, [c.width, c.width]),
    ...layerParameterSpecs(`blocks.${k}.linear_2`, [c.width, c.width]),
  ]).flat(),
  ...layerParameterSpecs("output", [c.dataDim, c.width]),
];

/** A Linear layer `name` (`name.weight`, `name.bias`). */
const dense = <V>(ops: NetOps<V>, p: ParameterLookup<V>, name: string, x: V): V =>
  ops.linear(x, p(`${name}.weight`), p(`${name}.bias`));

/**
 * The MLP as a {@link Network}: sampleShape [D], parameters in the order above (PyTorch `Linear` init, frozen
 * Fourier frequencies "time_proj.weight").
 *
 * @category Networks
 */
export const mlpNetwork = (config: MlpConfig): Network => ({
  name: "MLP",
  sampleShape: [config.dataDim],
  parameters: parameterSpecs(config),
  apply: (ops, p, x, noise) => {
    const e = ops.fourierFeatures(noise, p("time_proj.weight"), { log: false, flipSinToCos: false });
    const tau = dense(
      ops,
      p,
      "time_embedding.linear_2",
      ops.silu(dense(ops, p, "time_embedding.linear_1", e)),
    );
    const tauAct = ops.silu(tau);
    let h = ops.add(dense(ops, p, "input", x), tau);
    for (let k = 0; k < config.blocks; k++) {
      const u = dense(ops, p, `blocks.${k}.linear_1`, ops.silu(h));
      const v = ops.add(u, dense(ops, p, `blocks.${k}.time_emb_proj`, tauAct));
      h = ops.add(h, dense(ops, p, `blocks.${k}.linear_2`, ops.silu(v)));
    }
    return dense(ops, p, "output", ops.silu(h));
  },
});
