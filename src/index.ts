/**
 * scoreflow: diffusion generative models as a functional math library. A diffusion is a typed SDE record;
 * from it the library derives the reverse-time SDE, the probability-flow ODE, the prior, the parameterization
 * converters and the samplers, all through generic solvers. Discrete DDPM lives beside it and maps exactly onto
 * the VP SDE; a Gaussian-mixture oracle gives exact marginals, scores and likelihoods for testing. Networks (a
 * diffusers-compatible U-Net and an MLP) are built from our own kernels with reverse-mode gradients, trained by
 * the losses and optimizers of `train`; `scoreflow/node` adds file I/O for Node.
 *
 * @module
 */
export * from "./core/index.js";
export * from "./data/index.js";
export * from "./discrete/index.js";
export * from "./metrics/index.js";
export * from "./nets/index.js";
export * from "./ode/index.js";
export * from "./oracle/index.js";
export * from "./plot/index.js";
export * from "./samplers/index.js";
export * from "./sde/index.js";
export * from "./solvers/index.js";
export * from "./train/index.js";
