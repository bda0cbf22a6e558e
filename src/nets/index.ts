/**
 * Networks: the GPU.js compute backend and the network ops (so far conv2d, forward and backward), with a
 * float64 reference implementation for tests.
 *
 * @module
 */
export * from "./backend.js";
export * from "./conv2d-shape.js";
export {
  type Conv2dImplementation,
  type Conv2dKernels,
  conv2d,
  conv2dBackward,
  conv2dKernels,
} from "./kernels/conv2d.js";
export { gpujsConv2d } from "./kernels/conv2d-gpujs.js";
export { wasmConv2d } from "./kernels/conv2d-wasm.js";
export { conv2dBackwardReference, conv2dReference } from "./reference/conv2d.js";
