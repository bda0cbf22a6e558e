export * from "./errors.js";
export * from "./guards.js";
export * from "./rng.js";
export * from "./tensor.js";
export * from "./validate.js";
