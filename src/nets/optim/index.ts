/**
 * Training utilities as pure functions on parameter maps: Adam and AdamW, gradient clipping by global norm,
 * exponential moving averages of the weights and their decay schedules, and learning-rate schedules.
 *
 * @module
 */
export * from "./adam.js";
export * from "./clip.js";
export * from "./ema.js";
export * from "./schedule.js";
