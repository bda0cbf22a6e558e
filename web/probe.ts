/**
 * What the page exposes as `window.playground` for tests and the curious: its readiness, the backend, and the
 * last sampling and training runs, with the final particle positions of the last finished sampling run.
 *
 * @module
 */

/** The state of a run. */
export type RunStatus = "idle" | "running" | "done" | "stopped" | "failed";

/** The last sampling run. */
export interface SamplingProbe {
  /** Its state. */
  status: RunStatus;
  /** The sampler family. */
  family: string;
  /** The step count asked for. */
  steps: number;
  /** Particles. */
  n: number;
  /** The seed of the noise and of the stochastic samplers. */
  seed: number;
  /** The SDE's name. */
  sde: string;
  /** The model: "exact", "pretrained" or "trained". */
  model: string;
  /** Model evaluations so far. */
  nfe: number;
  /** Steps taken so far. */
  step: number;
  /** The final particles as a flat [n, 2] array (x₀, y₀, x₁, y₁, …), once done. */
  final: number[] | undefined;
  /** The error, when failed. */
  message: string;
  /** Where the steps ran: on the page, replayed over the GPU's answers, or in the worker blocking on them. */
  route: "page" | "replay" | "worker";
}

/** The last training run. */
export interface TrainingProbe {
  /** Its state. */
  status: RunStatus;
  /** Steps taken. */
  step: number;
  /** Steps of the run. */
  steps: number;
  /** The last minibatch loss. */
  loss: number;
  /** The error, when failed. */
  message: string;
}

/** Everything the page exposes. */
export interface PlaygroundProbe {
  /** True once the backend is up and the controls are live. */
  ready: boolean;
  /** The backend mode the network ops run on, e.g. "webasm". */
  backend: string;
  /** The WebGPU adapter networks sample on, when they do. */
  gpu: string | undefined;
  /** The shipped model: "loading", "loaded", "missing" (not in this build) or "failed". */
  pretrained: "loading" | "loaded" | "missing" | "failed";
  /** The last sampling run. */
  sampling: SamplingProbe;
  /** The last training run. */
  training: TrainingProbe;
}

declare global {
  interface Window {
    /** The playground's state, see {@link PlaygroundProbe}. */
    playground?: PlaygroundProbe;
  }
}
