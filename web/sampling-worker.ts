/**
 * The sampling worker: runs a sampler family synchronously, its model answered by the page's main thread
 * through the blocking bridge (`bridge.ts`), and posts every step back for drawing. Used when networks sample on
 * the GPU and the page is cross-origin isolated; the samples are those `asyncModelSteps` gives on the main thread,
 * without its replays.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import {
  type DiffusionModel,
  discreteChain,
  type LinearSde,
  type ModelDescription,
  type Parameterization,
  type SamplerFamily,
  samplerFamilySteps,
  sdeByName,
  type Tensor,
  tensorBatchSpace,
} from "scoreflow";
import { blockingCall, bridgeOf } from "./bridge.js";
import { samplingInputs } from "./models.js";
import { type SdeChoice, sdeOf } from "./sdes.js";

/** One run to sample: the page's controls, the network's description and meaning, and the bridge's buffer. */
export interface SamplingRequest {
  /** The family. */
  readonly family: SamplerFamily;
  /** Its steps. */
  readonly steps: number;
  /** Particles. */
  readonly n: number;
  /** The seed of the noise and the stochastic families. */
  readonly seed: number;
  /** The SDE: a time model's own (by name), or the page's choice. */
  readonly sde: { readonly name: string } | { readonly choice: SdeChoice; readonly beta: string };
  /** The network's description (for the discrete chain). */
  readonly description: ModelDescription;
  /** What the network predicts: a denoiser, or a time model's target. */
  readonly parameterization: Parameterization | "denoiser";
  /** The bridge's shared buffer. */
  readonly buffer: SharedArrayBuffer;
}

/** What the worker posts: a step, or the end of the run (with its error, if it failed). */
export type SamplingMessage =
  | {
      readonly kind: "step";
      readonly step: number;
      readonly t: number;
      readonly nfe: number;
      readonly y: Float32Array;
    }
  | { readonly kind: "end"; readonly error: string | undefined };

const space = tensorBatchSpace<Float32Array>();

const run = (r: SamplingRequest): string | undefined => {
  const bridge = bridgeOf(r.buffer, 2 * r.n);
  const call = (x: Tensor, p: number): Tensor => ({ shape: x.shape, data: blockingCall(bridge, x.data, p) });
  const model: DiffusionModel<Tensor> =
    r.parameterization === "denoiser"
      ? { parameterization: "denoiser", denoise: (x, s) => call(x, s) }
      : { parameterization: r.parameterization, predict: (x, t) => call(x, t) };
  const sde: E.Either<string, LinearSde> =
    "name" in r.sde
      ? E.mapLeft((e: { readonly message: string }) => e.message)(sdeByName(r.sde.name))
      : sdeOf(r.sde.choice, r.sde.beta);
  const chain = discreteChain(r.description, model);
  const inputs = samplingInputs(r.seed, r.n);
  if (E.isLeft(sde)) return sde.left;
  if (E.isLeft(chain)) return chain.left.message;
  if (E.isLeft(inputs)) return inputs.left.message;
  const started = samplerFamilySteps(r.family, {
    space,
    model,
    sde: sde.right,
    schedule: chain.right.schedule,
    discreteModel: chain.right.model,
    noise: inputs.right.noise,
    key: inputs.right.key,
    steps: r.steps,
  });
  if (E.isLeft(started)) return started.left.message;
  for (;;) {
    const next = started.right.steps.next();
    if (next.done === true) return E.isLeft(next.value) ? next.value.left.message : undefined;
    const { step, t, nfe, y } = next.value;
    self.postMessage({ kind: "step", step, t, nfe, y: y.data } satisfies SamplingMessage);
  }
};

self.onmessage = (event: MessageEvent<SamplingRequest>) => {
  self.postMessage({ kind: "end", error: run(event.data) } satisfies SamplingMessage);
};
