import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, rngKey } from "../../src/core/rng.js";
import type { Tensor } from "../../src/core/tensor.js";
import { createBackend, disposeBackend } from "../../src/nets/backend.js";
import { unet2DConfig } from "../../src/nets/io/unet-config.js";
import { initParameters, networkGradients } from "../../src/nets/network.js";
import { adamConfig, adamInit, adamStep } from "../../src/nets/optim/adam.js";
import { disposeNetKernels, netKernels } from "../../src/nets/tape.js";
import { unet2DModel } from "../../src/nets/unet.js";

describe("unet2DModel (end to end)", () => {
  it("fits one batch of 4 noisy 16×16 images to their ε (MSE falls ≥ 100× within 400 Adam steps)", async () => {
    const backend = orThrow(await createBackend("webasm"));
    const kernels = orThrow(netKernels(backend));
    const config = orThrow(
      unet2DConfig({
        sample_size: 16,
        in_channels: 1,
        out_channels: 1,
        block_out_channels: [16, 32],
        layers_per_block: 1,
        down_block_types: ["DownBlock2D", "AttnDownBlock2D"],
        up_block_types: ["AttnUpBlock2D", "UpBlock2D"],
        norm_num_groups: 8,
        attention_head_dim: 8,
      }),
    );
    const net = orThrow(unet2DModel(config));
    // x_t = √ᾱ·x₀ + √(1 − ᾱ)·ε for discs x₀ ∈ {−1, 1}^(16×16) at four noise levels; the target is ε.
    const [n, s] = [4, 256];
    const eps = fillNormal(orThrow(rngKey(2)), new Float32Array(n * s));
    const alphaBar = [0.9, 0.6, 0.3, 0.05];
    const xt = new Float32Array(n * s);
    for (let b = 0; b < n; b++)
      for (let i = 0; i < 16; i++)
        for (let j = 0; j < 16; j++) {
          const x0 = Math.hypot(i - 4 - 2 * b, j - 8) < 3 + b ? 1 : -1;
          const k = b * s + i * 16 + j;
          xt[k] = Math.sqrt(alphaBar[b]) * x0 + Math.sqrt(1 - alphaBar[b]) * eps[k];
        }
    const x: Tensor = { shape: [n, 1, 16, 16], data: xt };
    const timesteps = [100, 300, 600, 900];
    const mse = (y: Tensor) => ({
      loss: y.data.reduce((a, v, i) => a + (v - eps[i]) ** 2, 0) / y.data.length,
      dOutput: y.data.map((v, i) => (2 * (v - eps[i])) / y.data.length),
    });
    const adam = orThrow(adamConfig());
    let params = initParameters(net, orThrow(rngKey(1)));
    let state = adamInit(params);
    const losses: number[] = [];
    while (losses.length < 400 && !(losses.length > 0 && losses.at(-1)! * 100 <= losses[0])) {
      const pass = orThrow(networkGradients(kernels, net, params, x, timesteps, mse));
      losses.push(pass.loss);
      ({ params, state } = adamStep(adam, state, params, pass.gradients));
    }
    expect(losses[0]).toBeGreaterThan(0.5);
    expect(losses.at(-1)! * 100).toBeLessThanOrEqual(losses[0]);
    disposeNetKernels(kernels);
    await disposeBackend(backend);
  });
});
