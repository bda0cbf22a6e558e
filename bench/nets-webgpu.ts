/**
 * The issue's U-Net ([32, 64], 1×32×32, attention at 16×16) on the GPU through WebGPU in Node (Google's Dawn,
 * `installDawn`), against the webasm kernels on every core: forward passes (ms median, images/s, GFLOP/s at
 * 0.579 GFLOP per image as counted by bench/nets-unet.ts, the outputs' largest relative difference) and
 * training passes (ms). Where Dawn does not load or no adapter answers, prints why and exits 0: this is a
 * benchmark, not a test.
 * Run: `npx tsx bench/nets-webgpu.ts` (add `--quick` for fewer repetitions). On an NVIDIA machine Dawn needs the
 * Vulkan loader and `VK_DRIVER_FILES` pointing at the driver's ICD file.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import * as E from "fp-ts/lib/Either.js";
import { orThrow } from "../src/core/errors.js";
import { rngKey } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { createBackend } from "../src/nets/backend.js";
import { forwardNetwork, initParameters, networkGradients } from "../src/nets/network.js";
import { netKernels } from "../src/nets/tape.js";
import { networkGradientsWebgpu } from "../src/nets/webgpu/backward.js";
import { webgpuNetKernels } from "../src/nets/webgpu/device.js";
import { forwardNetworkWebgpu } from "../src/nets/webgpu/forward.js";
import { createKernelThreads } from "../src/node/kernel-threads.js";
import { installDawn } from "../src/node/webgpu.js";
import { ISSUE_UNET_FORWARD_GFLOP, issueUnet, median, pad, rnd } from "./harness.js";

const quick = process.argv.includes("--quick");
const adapter = await installDawn();
if (E.isLeft(adapter)) {
  console.log(`No WebGPU here: ${adapter.left.message}`);
  process.exit(0);
}

const network = issueUnet();
const parameters = initParameters(network, orThrow(rngKey(0)));
const gpu = orThrow(webgpuNetKernels(orThrow(await createBackend("webgpu"))));
const threads = orThrow(createKernelThreads(availableParallelism() - 1));
const cpu = orThrow(netKernels(orThrow(await createBackend("webasm")), threads));

console.log(
  `UNet2DModel [32, 64], 1×32×32 forward on webgpu (${adapter.right}) and on webasm (${availableParallelism()} threads).\n`,
);
console.log(
  `${"batch".padEnd(6)}${pad("first ms", 10)}${pad("gpu ms", 10)}${pad("img/s", 10)}${pad("GFLOP/s", 9)}${pad("cpu ms", 10)}${pad("GFLOP/s", 9)}${pad("speed-up", 9)}${pad("max rel Δ", 11)}`,
);
for (const n of [1, 8, 64]) {
  const x = rnd([n, 1, 32, 32]);
  const t = Array.from({ length: n }, (_, i) => (997 * (i + 1)) % 1000);
  const t0 = performance.now();
  const first = orThrow(await forwardNetworkWebgpu(gpu, network, parameters, x, t));
  const firstMs = performance.now() - t0;
  const gpuMs: number[] = [];
  for (let r = 0; r < (quick ? 3 : 10); r++) {
    const s = performance.now();
    orThrow(await forwardNetworkWebgpu(gpu, network, parameters, x, t));
    gpuMs.push(performance.now() - s);
  }
  const cpuMs: number[] = [];
  let reference = first;
  for (let r = 0; r < (n === 64 ? 1 : quick ? 2 : 5); r++) {
    const s = performance.now();
    reference = orThrow(forwardNetwork(cpu, network, parameters, x, t));
    cpuMs.push(performance.now() - s);
  }
  const largest = reference.data.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  const gap = first.data.reduce((m, v, i) => Math.max(m, Math.abs(v - reference.data[i])), 0) / largest;
  const [g, c] = [median(gpuMs), median(cpuMs)];
  const gf = (ms: number) => ((n * ISSUE_UNET_FORWARD_GFLOP) / (ms / 1000)).toFixed(1);
  console.log(
    `${String(n).padEnd(6)}${pad(firstMs.toFixed(0), 10)}${pad(g.toFixed(2), 10)}${pad(((1000 * n) / g).toFixed(0), 10)}${pad(gf(g), 9)}${pad(c.toFixed(1), 10)}${pad(gf(c), 9)}${pad(`${(c / g).toFixed(1)}×`, 9)}${pad(gap.toExponential(1), 11)}`,
  );
}
// Training passes (forward + backward, L = Σ y·u): median ms on webgpu and on webasm.
console.log(
  `\n${"batch".padEnd(6)}${pad("gpu fwd+bwd ms", 16)}${pad("cpu fwd+bwd ms", 16)}${pad("speed-up", 9)}`,
);
for (const n of [8, 64]) {
  const x = rnd([n, 1, 32, 32]);
  const t = Array.from({ length: n }, (_, i) => (997 * (i + 1)) % 1000);
  const u = rnd([n, 1, 32, 32]).data;
  const loss = (y: Tensor) => ({ loss: y.data.reduce((a, v, i) => a + v * u[i], 0), dOutput: u });
  orThrow(await networkGradientsWebgpu(gpu, network, parameters, x, t, loss));
  const gpuMs: number[] = [];
  for (let r = 0; r < (quick ? 3 : 10); r++) {
    const s = performance.now();
    orThrow(await networkGradientsWebgpu(gpu, network, parameters, x, t, loss));
    gpuMs.push(performance.now() - s);
  }
  const s = performance.now();
  orThrow(networkGradients(cpu, network, parameters, x, t, loss));
  const c = performance.now() - s;
  const g = median(gpuMs);
  console.log(
    `${String(n).padEnd(6)}${pad(g.toFixed(1), 16)}${pad(c.toFixed(1), 16)}${pad(`${(c / g).toFixed(1)}×`, 9)}`,
  );
}
await gpu.dispose();
await threads.dispose();
