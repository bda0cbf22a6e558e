import * as E from "fp-ts/lib/Either.js";
import {
  checkUnet2DCheckpoint,
  createBackend,
  disposeBackend,
  edmLoss,
  edmPreconditioning,
  foldIn,
  forwardNetwork,
  initParameters,
  type LossAndGradient,
  lossGradients,
  netKernels,
  networkDenoiser,
  networkGradients,
  orThrow,
  type Parameters,
  preconditioningCoefficients,
  readSafetensors,
  rngKey,
  type Tensor,
  tensorSpace,
  unet2DConfig,
  unet2DModel,
  unet2DParameters,
  writeSafetensors,
  zeros32,
} from "scoreflow";

// 1. A U-Net from a diffusers config.json, given as the parsed object (unet2DConfigFromJson takes the text):
//    absent keys take UNet2DModel's defaults, keys starting with "_" are ignored, and anything unsupported is a
//    Left naming the key.
const configJson = {
  _class_name: "UNet2DModel",
  _diffusers_version: "0.30.0",
  sample_size: 8,
  in_channels: 1,
  out_channels: 1,
  layers_per_block: 1,
  block_out_channels: [16, 32],
  down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
  up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
  norm_num_groups: 4,
  attention_head_dim: 8,
};
const config = orThrow(unet2DConfig(configJson));
const resolved = [
  `levels ${config.blockOutChannels.join(" → ")}`,
  `time embedding ${config.timeEmbeddingType} → ${config.timeEmbeddingDim}`,
  `flip_sin_to_cos ${config.flipSinToCos}`,
  `mid-block attention ${config.addAttention}`,
  `GroupNorm ε ${config.normEps}`,
];
console.log(resolved.join(", "));
const refused = unet2DConfig({ ...configJson, resnet_time_scale_shift: "scale_shift" });
if (E.isLeft(refused)) console.log(refused.left.message);

// 2. The parameters the config implies: diffusers' state-dict names and PyTorch's shapes, in state-dict order.
const specs = unet2DParameters(config);
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const modules = new Map<string, number>();
for (const { name, shape } of specs) {
  const depth = /^(down|up)_blocks/.test(name) ? 2 : 1;
  const module = name.split(".").slice(0, depth).join(".");
  modules.set(module, (modules.get(module) ?? 0) + size(shape));
}
for (const [module, count] of modules) console.log(`${module.padEnd(16)} ${String(count).padStart(7)}`);
const total = specs.reduce((sum, { shape }) => sum + size(shape), 0);
console.log(`${"total".padEnd(16)} ${String(total).padStart(7)} in ${specs.length} tensors`);
for (const { name, shape } of specs.filter((p) => p.name.startsWith("down_blocks.1.attentions.0")))
  console.log(`  ${name.padEnd(46)} [${shape.join(", ")}]`);

// 3. The network, fresh parameters (PyTorch's initializers, keyed) and a forward pass: a batch of 4 images at
//    4 timesteps, on the webasm backend (WebAssembly SIMD kernels).
const network = orThrow(unet2DModel(config));
const key = orThrow(rngKey(0));
const parameters = initParameters(network, foldIn(key, 0));
const space = tensorSpace<Float32Array>();
const x = space.normalLike(foldIn(key, 1), zeros32([4, 1, 8, 8]));
const timesteps = [0, 250, 500, 999];
const webasm = orThrow(await createBackend("webasm"));
const kernels = orThrow(netKernels(webasm));
const y = orThrow(forwardNetwork(kernels, network, parameters, x, timesteps));
const rms = (v: ArrayLike<number>) => Math.sqrt(Array.from(v).reduce((a, b) => a + b * b, 0) / v.length);
const largest = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => Math.max(a, Math.abs(b)), 0);
console.log(
  `${network.name}: x [${x.shape.join(", ")}] → y [${y.shape.join(", ")}], rms(y) = ${rms(y.data).toFixed(4)}`,
);

// 4. Gradients. networkGradients runs the forward pass on a recording tape (each op keeps its pullback), then
//    the reverse sweep: ∂L/∂θ for every trainable tensor. Checked by a central difference along −∇L/‖∇L‖.
const target = space.normalLike(foldIn(key, 2), x);
const mse = (out: Tensor): LossAndGradient => {
  const dOutput = new Float32Array(out.data.length);
  let loss = 0;
  for (let i = 0; i < out.data.length; i++) {
    const e = out.data[i] - target.data[i];
    loss += (e * e) / out.data.length;
    dOutput[i] = (2 * e) / out.data.length;
  }
  return { loss, dOutput };
};
const pass = orThrow(networkGradients(kernels, network, parameters, x, timesteps, mse));
const norm = Math.hypot(...[...pass.gradients.values()].map((g) => rms(g.data) * Math.sqrt(g.data.length)));
console.log(
  `L = ${pass.loss.toFixed(6)}, ${pass.gradients.size} gradient tensors, ‖∇L‖ = ${norm.toFixed(6)}`,
);
const moved = (h: number): Parameters =>
  new Map(
    [...parameters].map(([name, p]) => {
      const g = pass.gradients.get(name)!.data;
      return [name, { shape: p.shape, data: p.data.map((v, i) => v - (h * g[i]) / norm) }];
    }),
  );
const lossAt = (p: Parameters) => mse(orThrow(forwardNetwork(kernels, network, p, x, timesteps))).loss;
const slope = (lossAt(moved(-0.01)) - lossAt(moved(0.01))) / 0.02;
console.log(`central difference, h = 0.01: ${slope.toFixed(4)}`);
// A key bias b adds the same q·b to every logit in query q's row, which softmax ignores: ∂L/∂b = 0 exactly.
const keyBiases = [...pass.gradients].filter(([name]) => name.endsWith("to_k.bias"));
const keyBias = Math.max(...keyBiases.map(([, g]) => largest(g.data)));
// Round-off figures are printed as the bound they meet, so that kernel changes within float32 rounding keep the page.
const below = (v: number, bound: number) =>
  v < bound ? `below ${bound.toExponential(0)}` : v.toExponential(1);
console.log(`largest |∂L/∂b| over the ${keyBiases.length} to_k.bias tensors: ${below(keyBias, 1e-9)}`);

// 5. EDM preconditioning (Karras et al. 2022, eq. 7): D(x̂; σ) = c_skip·x̂ + c_out·F(c_in·x̂; c_noise) makes the raw
//    U-Net F a denoiser that every sampler accepts; the EDM loss trains F through the same wrapper.
const preconditioning = orThrow(edmPreconditioning(0.5));
const denoiser = networkDenoiser(kernels, network, parameters, preconditioning);
const images = space.combine([[0.5, x]]);
const noise = space.normalLike(foldIn(key, 3), x);
const fmt = (v: number) => (v < 1e-3 ? v.toExponential(1) : v.toFixed(4)).padStart(8);
console.log("     σ   c_skip    c_out     c_in  c_noise   rms(c_in·x̂)   |D − c_skip·x̂ − c_out·F|");
for (const sigma of [0.002, 0.5, 80]) {
  const c = preconditioningCoefficients(preconditioning, sigma);
  const xHat = space.combine([
    [1, images],
    [sigma, noise],
  ]);
  const input = space.combine([[c.cIn, xHat]]);
  const f = orThrow(forwardNetwork(kernels, network, parameters, input, Array(4).fill(c.cNoise)));
  const d = denoiser.denoise(xHat, sigma);
  const residual = space.combine([
    [1, d],
    [-c.cSkip, xHat],
    [-c.cOut, f],
  ]);
  const columns = [c.cSkip, c.cOut, c.cIn].map(fmt).join(" ");
  console.log(
    `${String(sigma).padStart(6)} ${columns} ${c.cNoise.toFixed(4).padStart(8)}   ${rms(input.data).toFixed(4).padStart(11)}   ${below(largest(residual.data), 5e-7)}`,
  );
}
const edm = { kind: "denoiser", network, preconditioning } as const;
const edmStep = orThrow(lossGradients(kernels, edm, orThrow(edmLoss()), parameters, images, foldIn(key, 4)));
console.log(
  `EDM loss of one batch: ${edmStep.loss.toFixed(4)}, gradients for ${edmStep.gradients.size} tensors`,
);

// 6. Loading a diffusers checkpoint: the bytes of diffusion_pytorch_model.safetensors (readFileSync in Node,
//    fetch in a browser) → readSafetensors → checkUnet2DCheckpoint against the config → parameters. No real
//    checkpoint is reachable offline, so write one with diffusers' names first, its attention weights under the
//    names diffusers used before 0.14 (query, key, value, proj_attn), which the loader renames as diffusers does.
const oldNames: ReadonlyArray<readonly [string, string]> = [
  [".to_q.", ".query."],
  [".to_k.", ".key."],
  [".to_v.", ".value."],
  [".to_out.0.", ".proj_attn."],
];
const rename = (name: string) => oldNames.reduce((s, [current, old]) => s.replace(current, old), name);
const bytes = orThrow(writeSafetensors(new Map([...parameters].map(([name, p]) => [rename(name), p]))));
const file = orThrow(readSafetensors(bytes));
const old = [...file.tensors.keys()].filter((name) => !parameters.has(name)).length;
console.log(
  `${bytes.length} bytes: ${file.tensors.size} float32 tensors, ${old} of them under pre-0.14 names`,
);
const loaded = orThrow(checkUnet2DCheckpoint(config, file.tensors));
const again = orThrow(forwardNetwork(kernels, network, loaded, x, timesteps));
const same = again.data.every((v, i) => v === y.data[i]);
console.log(`loaded ${loaded.size} tensors in state-dict order; the same output, bit for bit: ${same}`);
const broken = new Map(file.tensors);
broken.delete("conv_out.bias");
broken.set("conv_in.weight", zeros32([16, 3, 3, 3]));
const refusal = checkUnet2DCheckpoint(config, broken);
if (E.isLeft(refusal)) console.log(refusal.left.message);

// 7. Backends. "auto" takes the first mode the network ops run on (webgl2 in a browser with a hardware GPU, then
//    webasm, then cpu) and reports why it passed over each one before it, webgpu included; an explicit request
//    that is unavailable is a Left, never a substitute.
for (const request of ["auto", "webgpu", "webgl2", "webasm", "cpu"] as const) {
  const backend = await createBackend(request);
  if (E.isLeft(backend)) console.log(`${request.padEnd(6)} → ${backend.left.message}`);
  else {
    const skipped = backend.right.report.fallbacks.map((reason) => `, skipped ${reason}`);
    console.log(`${request.padEnd(6)} → ${backend.right.mode}${skipped.join("")}`);
    await disposeBackend(backend.right);
  }
}
const cpu = orThrow(await createBackend("cpu"));
const cpuKernels = orThrow(netKernels(cpu));
for (const [mode, k] of [
  ["webasm", kernels],
  ["cpu", cpuKernels],
] as const)
  for (const op of ["conv2d", "linear", "attention"] as const)
    console.log(`${mode.padEnd(6)} ${op.padEnd(9)} ${k[op].implementation.padEnd(11)} ${k[op].reason}`);
// No WebGPU adapter answers here; relabelling this backend shows what the kernels answer on one.
const onGpu = netKernels({ ...webasm, mode: "webgpu" });
if (E.isLeft(onGpu)) console.log(onGpu.left.message);
// The same forward and backward pass on the cpu backend: float32 sums in another order, nothing else.
const other = orThrow(networkGradients(cpuKernels, network, parameters, x, timesteps, mse));
const gap = (a: ArrayLike<number>, b: ArrayLike<number>) => largest(Array.from(a, (v, i) => v - b[i]));
const gradGap = Math.max(
  ...[...pass.gradients].map(([name, g]) => gap(g.data, other.gradients.get(name)!.data)),
);
const gradMax = Math.max(...[...pass.gradients.values()].map((g) => largest(g.data)));
console.log(
  `webasm vs cpu: output ${below(gap(y.data, other.output.data), 1e-5)} (max |y| ${largest(y.data).toFixed(3)})`,
);
console.log(`webasm vs cpu: gradients ${below(gradGap, 1e-6)} (max |∂L/∂θ| ${gradMax.toFixed(3)})`);
await Promise.all([disposeBackend(webasm), disposeBackend(cpu)]);
