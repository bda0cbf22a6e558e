/**
 * scoreflow/node: the Node-only part of the library: dataset loaders, atomic writes, checkpoints and model files
 * (file system access), and helper threads for the WebAssembly kernels (`worker_threads`).
 *
 * @module
 */

export * from "./checkpoint.js";
export * from "./datasets.js";
export * from "./kernel-threads.js";
export * from "./model-file.js";
export * from "./webgpu.js";
