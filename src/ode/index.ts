/**
 * ODEs: the {@link Ode} record and the probability-flow ODE of an SDE.
 *
 * @module
 */

export * from "./dequantize.js";
export * from "./divergence.js";
export * from "./likelihood.js";
export * from "./probability-flow.js";
export * from "./product-space.js";
export * from "./types.js";
