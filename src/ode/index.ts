/**
 * ODEs: the {@link Ode} record and the probability-flow ODE of an SDE.
 *
 * @module
 */
export * from "./probability-flow.js";
export * from "./types.js";
