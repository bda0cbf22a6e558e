/**
 * Discrete-time DDPM as diffusers' `DDPMScheduler` computes it, in float64: β schedules and ᾱ, the forward
 * process and its posterior, inference timestep spacings, and the exact correspondence with the VP SDE.
 * Timestep indices are 0-based (t = 0 … T−1 is paper step t + 1).
 *
 * @module
 */
export { type DdpmKernel, ddpmForwardStep, ddpmMarginal, ddpmMarginalAt, ddpmQSample } from "./forward.js";
export { type DdpmPosterior, ddpmClippedLogVariance, ddpmPosterior } from "./posterior.js";
export { MAX_DDPM_TIMESTEPS } from "./rules.js";
export {
  type BetaScheduleKind,
  type DdpmSchedule,
  type DdpmScheduleOptions,
  ddpmSchedule,
} from "./schedule.js";
export { type DdpmTimestepsOptions, ddpmTimesteps, type TimestepSpacing } from "./spacing.js";
export { ddpmIndexOfTime, ddpmTimeOfIndex, type VpDdpmScheduleOptions, vpDdpmSchedule } from "./vp.js";
