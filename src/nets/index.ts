/**
 * Networks: the GPU.js compute backend and the network ops of a DDPM U-Net — conv2d, linear, group norm, SiLU,
 * residual add, channel concat, nearest 2× upsample, spatial multi-head self-attention, timestep embeddings —
 * each forward and backward with a float64 reference implementation for tests; safetensors I/O and the
 * diffusers UNet2DModel config with its parameter list.
 *
 * @module
 */
export * from "./attention-shape.js";
export * from "./backend.js";
export * from "./classifier.js";
export * from "./conv2d-shape.js";
export * from "./embedding.js";
export * from "./group-norm-shape.js";
export * from "./io/safetensors.js";
export * from "./io/unet-config.js";
export * from "./kernel-cache.js";
export { type ResidualAddGradients, residualAdd, residualAddBackward } from "./kernels/add.js";
export {
  type AttentionImplementation,
  type AttentionKernels,
  attention,
  attentionBackward,
  attentionKernels,
  typescriptAttention,
  wasmAttention,
} from "./kernels/attention.js";
export { concatChannels, concatChannelsBackward } from "./kernels/concat.js";
export {
  type Conv2dImplementation,
  type Conv2dKernels,
  conv2d,
  conv2dBackward,
  conv2dKernels,
} from "./kernels/conv2d.js";
export { gpujsConv2d } from "./kernels/conv2d-gpujs.js";
export { wasmConv2d } from "./kernels/conv2d-wasm.js";
export { groupNorm, groupNormBackward } from "./kernels/group-norm.js";
export {
  type LinearImplementation,
  type LinearKernels,
  linear,
  linearBackward,
  linearKernels,
} from "./kernels/linear.js";
export { gpujsLinear } from "./kernels/linear-gpujs.js";
export { wasmLinear } from "./kernels/linear-wasm.js";
export { silu, siluBackward } from "./kernels/silu.js";
export { upsampleNearest2x, upsampleNearest2xBackward } from "./kernels/upsample.js";
export * from "./layers.js";
export * from "./linear-shape.js";
export * from "./mlp.js";
export * from "./network.js";
export * from "./ops.js";
export * from "./optim/index.js";
export * from "./precondition.js";
export { residualAddReference } from "./reference/add.js";
export { attentionBackwardReference, attentionReference } from "./reference/attention.js";
export { concatChannelsBackwardReference, concatChannelsReference } from "./reference/concat.js";
export { conv2dBackwardReference, conv2dReference } from "./reference/conv2d.js";
export { groupNormBackwardReference, groupNormReference } from "./reference/group-norm.js";
export { linearBackwardReference, linearReference } from "./reference/linear.js";
export { siluBackwardReference, siluReference } from "./reference/silu.js";
export { unet2DReference } from "./reference/unet.js";
export { upsampleNearest2xBackwardReference, upsampleNearest2xReference } from "./reference/upsample.js";
export * from "./score-model.js";
export * from "./tape.js";
export * from "./unet.js";
export type { MicroKernelName } from "./wasm/micro-kernels.js";
export { type KernelThreads, MIN_FLOPS_PER_THREAD } from "./wasm/threads.js";
export { type DeviceNode, networkGradientsWebgpu } from "./webgpu/backward.js";
export {
  type Argument,
  type DeviceBuffer,
  type DeviceRunner,
  type DeviceValue,
  type GpuKernel,
  MAX_WEBGPU_KERNELS,
  type ResidentParameters,
  type WebgpuNetKernels,
  webgpuNetKernels,
} from "./webgpu/device.js";
export { forwardNetworkWebgpu } from "./webgpu/forward.js";
export { samplerModelWebgpu } from "./webgpu/sampler-model.js";
