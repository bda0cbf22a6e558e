/**
 * Samplers: every family derived from one SDE record and a model in any parameterization — reverse-SDE
 * Euler–Maruyama, predictor–corrector, annealed Langevin, probability-flow ODE (Euler, Heun, RK4, RK45), DDPM
 * ancestral, DDIM, the EDM Heun sampler and DPM-Solver++(2M). Each has an iterator form (`…Steps`) that yields
 * the state after every step and a one-call form (`sample…`).
 *
 * @module
 */

export * from "./async-model.js";
export { type BatchSpace, rowNorms, tensorBatchSpace } from "./batch-space.js";
export * from "./ddim.js";
export * from "./ddpm.js";
export { clipTensor, discretePrediction } from "./discrete-model.js";
export * from "./dpm-solver.js";
export * from "./edm.js";
export * from "./families.js";
export * from "./langevin.js";
export * from "./model.js";
export * from "./predictor-corrector.js";
export {
  encodeProbabilityFlow,
  type ProbabilityFlowAdaptive,
  type ProbabilityFlowFixed,
  type ProbabilityFlowIntegration,
  type ProbabilityFlowOptions,
  probabilityFlowEncodeSteps,
  probabilityFlowSteps,
  sampleProbabilityFlow,
} from "./probability-flow.js";
export * from "./reverse-sde.js";
