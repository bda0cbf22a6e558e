/**
 * SDEs: the {@link Sde} and {@link LinearSde} records, the built-in VP, cosine VP, sub-VP, VE and EDM SDEs,
 * user-defined linear SDEs integrated numerically, their marginals, transitions and prior, the conversions
 * between network parameterizations, and the reverse-time SDE.
 *
 * @module
 */
export * from "./edm.js";
export * from "./linear.js";
export * from "./marginals.js";
export * from "./parameterization.js";
export * from "./prior.js";
export * from "./quadrature.js";
export * from "./reverse.js";
export * from "./sub-vp.js";
export * from "./types.js";
export * from "./ve.js";
export { integratedBeta, timeOfIntegratedBeta, type VpSdeParams, vpSde } from "./vp.js";
export * from "./vp-cosine.js";
