/**
 * `scoreflow likelihood`: the exact log-likelihood of held-out data under a 2-D model, through its probability-flow
 * ODE (Song et al. 2021, App. D.2) with the divergence of the network computed exactly by reverse mode.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { foldIn, rngKey } from "../core/rng.js";
import type { Tensor64 } from "../core/tensor.js";
import { toyDataset } from "../data/toys.js";
import { forwardNetwork, networkDivergence } from "../nets/network.js";
import { preconditionedNetwork } from "../nets/precondition.js";
import { probabilityFlowLikelihood } from "../ode/likelihood.js";
import { sdeByName } from "../train/description.js";
import { cliFailure, orFail } from "./failure.js";
import { loadModel, startCompute } from "./models.js";

/** The flags of `scoreflow likelihood`. */
export interface LikelihoodFlags {
  /** `--model`. */
  readonly model: string;
  /** `--n`. */
  readonly n: number;
  /** `--seed`. */
  readonly seed: number;
  /** `--backend`. */
  readonly backend: string;
  /** `--threads`: threads for the webasm kernels. */
  readonly threads: number;
}

/** The differential entropy per dimension of the toys whose density is known in closed form. */
const ENTROPY_PER_DIM: Readonly<Record<string, number>> = {
  // Uniform on 8 squares of side 2: density 1/32, entropy ln 32 over 2 dimensions.
  checkerboard: Math.log(32) / 2,
};

/** Runs `scoreflow likelihood` on a denoiser model of 2-D toy data. */
export const runLikelihood = async (flags: LikelihoodFlags): Promise<void> => {
  const loaded = await loadModel(flags.model);
  const { description, model } = loaded;
  if (description.data.kind !== "toy" || model.kind !== "denoiser")
    throw cliFailure("likelihood supports 2-D toy models trained with the edm loss (a denoiser)");
  const sde = orFail(sdeByName(description.sde));
  const { kernels } = await startCompute(flags.backend, flags.threads);
  const denoiser = preconditionedNetwork(model.network, model.preconditioning);
  const data = orFail(toyDataset(description.data.name, foldIn(orFail(rngKey(flags.seed)), 2), flags.n));
  const x = { shape: data.shape, data: Float64Array.from(data.data) };
  // s(x, t) = (s·D(x/s; σ/s) − x)/σ², so ∇·s = (∇_x̂·D − d)/σ² and the flow's divergence is f·d − ½g²·∇·s.
  const at = (v: Tensor64, t: number) => {
    const s = sde.scale(t);
    const xHat = { shape: v.shape, data: Float32Array.from(v.data, (a) => a / s) };
    return { xHat, s, sigma: sde.std(t), noise: new Float64Array(v.shape[0]).fill(sde.std(t) / s) };
  };
  const failed = (message: string) =>
    cliFailure(`the network failed during the likelihood solve: ${message}`);
  const score = (v: Tensor64, t: number): Tensor64 => {
    const { xHat, s, sigma, noise } = at(v, t);
    const d = forwardNetwork(kernels, denoiser, loaded.ema, xHat, noise);
    if (E.isLeft(d)) throw failed(d.left.message);
    return {
      shape: v.shape,
      data: Float64Array.from(v.data, (a, i) => (s * d.right.data[i] - a) / (sigma * sigma)),
    };
  };
  const dim = 2;
  const divergence = (v: Tensor64, t: number): Float64Array => {
    const { xHat, sigma, noise } = at(v, t);
    const div = networkDivergence(kernels, denoiser, loaded.ema, xHat, noise);
    if (E.isLeft(div)) throw failed(div.left.message);
    return div.right.map((dd) => sde.f(t) * dim - 0.5 * sde.g(t) ** 2 * ((dd - dim) / (sigma * sigma)));
  };
  const t0 = performance.now();
  const result = probabilityFlowLikelihood(sde, score, x, {
    divergence: { kind: "analytic", divergence },
    rtol: 1e-5,
    atol: 1e-5,
  });
  if (E.isLeft(result)) throw cliFailure(`likelihood: ${result.left.message}`);
  const ll = result.right.logLikelihood;
  const mean = ll.reduce((a, b) => a + b, 0) / ll.length;
  const se = Math.sqrt(ll.reduce((a, b) => a + (b - mean) ** 2, 0) / (ll.length - 1) / ll.length);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `${flags.n} held-out points of ${description.data.name}, probability flow under ${sde.name}, ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  log(
    `negative log-likelihood: ${(-mean / dim).toFixed(4)} ± ${(se / dim).toFixed(4)} nats/dim (${(-mean / dim / Math.LN2).toFixed(4)} bits/dim)`,
  );
  const h = ENTROPY_PER_DIM[description.data.name];
  if (h !== undefined)
    log(`the data's own entropy (its NLL under the true density): ${h.toFixed(4)} nats/dim`);
};
