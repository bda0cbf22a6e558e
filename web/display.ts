/**
 * The map from a sampler family's step record (see `samplerFamilySteps`) to what the page draws: the state in
 * x-space (EDM's scaled state x̂ = x/s becomes x = s·x̂) and the diffusion time it sits at.
 *
 * @module
 */
import type { BatchSpace, LinearSde, SamplerClock, SolverStep } from "scoreflow";

/** A record as drawn: the state in x-space and the diffusion time of the SDE it belongs to. */
export interface Displayed<V> {
  /** The particles x_t (for EDM, s(t)·x̂). */
  readonly x: V;
  /** The time t ≥ 0 of `sde` at which they sit (0 for the final samples). */
  readonly t: number;
  /** The SDE of `t`: the run's SDE, or for the DDPM chain the VP SDE it discretizes. */
  readonly sde: LinearSde;
}

/**
 * Where a record sits: for the SDE's own clock as it is; for EDM's noise level σ > 0 at t = t(σ) with
 * x = s(t)·x̂ (σ = 0: the samples, t = 0); for a chain timestep i ≥ 0 of N at the VP time (i + 1)/N (Song et
 * al. 2021, App. B), −1: the samples at t = 0.
 */
export const displayed = <V>(
  space: BatchSpace<V>,
  clock: SamplerClock,
  record: SolverStep<V>,
  sde: LinearSde,
  chain: { readonly sde: LinearSde; readonly steps: number },
): Displayed<V> => {
  switch (clock) {
    case "time":
      return { x: record.y, t: record.t, sde };
    case "noise-level": {
      if (!(record.t > 0)) return { x: record.y, t: 0, sde };
      const t = sde.timeOfNoiseLevel(record.t);
      return { x: space.combine([[sde.scale(t), record.y]]), t, sde };
    }
    case "timestep":
      return { x: record.y, t: record.t >= 0 ? (record.t + 1) / chain.steps : 0, sde: chain.sde };
  }
};
