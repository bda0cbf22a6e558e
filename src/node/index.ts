/**
 * scoreflow/node: the Node-only part of the library (file system access): dataset loaders and atomic writes.
 *
 * @module
 */

export * from "./checkpoint.js";
export * from "./datasets.js";
export * from "./model-file.js";
