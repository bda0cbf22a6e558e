/**
 * Distribution metrics for samples: moments, mixture-component frequencies, sliced Wasserstein-2.
 *
 * @module
 */
export * from "./digit-quality.js";
export * from "./moments.js";
export * from "./sliced-wasserstein.js";
