/**
 * Training: losses, the seeded resumable minibatch order, the run configuration, the training state and the
 * pure training step. Checkpoint files live in the Node-only part (`src/node/checkpoint.ts`).
 *
 * @module
 */
export * from "./config.js";
export * from "./data-order.js";
export * from "./description.js";
export * from "./loop.js";
export * from "./losses.js";
export * from "./state.js";
