/**
 * Datasets as tensors: 2-D toy distributions from keyed randomness, MNIST from its IDX files, PNG images, and
 * the pixel convention x = v/127.5 − 1. Works from bytes only (no file system): Node loaders live in
 * `scoreflow/node`.
 *
 * @module
 */
export * from "./idx.js";
export * from "./pixels.js";
export * from "./png.js";
export * from "./toys.js";
