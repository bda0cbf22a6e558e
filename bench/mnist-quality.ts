/**
 * Sample quality of an MNIST diffusion model (16×16 digits), measured by a small classifier that scoreflow
 * trains here: the classifier is trained on the MNIST train split at 16×16 (seeded) and its test accuracy
 * printed; then --n digits are drawn from the model with the EDM Heun sampler (18 Karras steps, 35 NFE) and,
 * next to the same figures for --n real test digits, the script prints the class coverage (classes predicted
 * at least once, of 10), the class histogram, the mean confidence (mean max-probability) and the entropy of the
 * histogram (ln 10 ≈ 2.303 nats for equally frequent classes).
 *
 *   npx tsx bench/mnist-quality.ts --model <checkpoint dir> [--n 500] [--seed 0] [--classifier-steps 3000]
 *
 * Samples are clipped to [−1, 1], the range of the data, before they are classified (as when they are written
 * as PNG). On one busy CPU core: about 2 minutes for the classifier (3000 steps, ≈ 98% test accuracy) and
 * about 30 ms per sample and evaluation of the default 16×16 U-Net (500 samples × 35 NFE: about 9 minutes).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cliFailure, orFail, runCommand } from "../src/cli/failure.js";
import { type LoadedModel, loadModel } from "../src/cli/models.js";
import { foldIn, type RngKey, rngKey } from "../src/core/rng.js";
import type { Tensor } from "../src/core/tensor.js";
import { classifierAccuracy, type DigitQuality, digitQuality } from "../src/metrics/digit-quality.js";
import { type BackendRequest, createBackend } from "../src/nets/backend.js";
import {
  classifier,
  classifierConfig,
  classifierLogits,
  classifierProbabilities,
  classifierTrainSteps,
} from "../src/nets/classifier.js";
import { adamConfig } from "../src/nets/optim/adam.js";
import { samplerModel } from "../src/nets/score-model.js";
import { type NetKernels, netKernels } from "../src/nets/tape.js";
import { loadMnist } from "../src/node/datasets.js";
import { tensorBatchSpace } from "../src/samplers/batch-space.js";
import { runSamplerFamily } from "../src/samplers/families.js";
import { epochPermutation, gatherRows } from "../src/train/data-order.js";
import { discreteChain, sdeByName } from "../src/train/description.js";

const { values: flags } = parseArgs({
  options: {
    model: { type: "string" },
    n: { type: "string", default: "500" },
    seed: { type: "string", default: "0" },
    "classifier-steps": { type: "string", default: "3000" },
    backend: { type: "string", default: "auto" },
  },
});

/** The MNIST shape of the shipped models: 2×2-averaged to 14×14, padded by 1. */
const MNIST16 = { downsample: 2, pad: 1 } as const;
/** The classifier's minibatch and learning rate (Adam): ≈ 98% test accuracy after 3000 steps (3.2 epochs). */
const CLASSIFIER = { batchSize: 64, lr: 2e-3 } as const;
/** The EDM sampler's steps (Karras et al. 2022, Table 1: 18 steps, 35 NFE) and the images per sampler call. */
const EDM_STEPS = 18;
const SAMPLE_CHUNK = 100;

const seconds = (t0: number): string => `${((performance.now() - t0) / 1000).toFixed(1)} s`;

/** A positive integer flag, or a failure naming it. */
const positiveInteger = (name: string, text: string | undefined): number => {
  const v = Number(text);
  if (!(Number.isSafeInteger(v) && v >= 1)) throw cliFailure(`--${name} must be an integer ≥ 1, got ${text}`);
  return v;
};

/** One row of the report. */
const report = (label: string, q: DigitQuality): string =>
  `${label.padEnd(22)}${`${q.covered}/10`.padStart(9)}${q.meanConfidence.toFixed(4).padStart(12)}${q.histogramEntropy.toFixed(4).padStart(10)}   [${q.histogram.map((h) => String(h).padStart(4)).join("")}]`;

/** Samples and the model evaluations each took. */
interface Digits {
  /** The samples [n, 1, 16, 16], clipped to [−1, 1]. */
  readonly images: Tensor;
  /** NFE per sample. */
  readonly nfe: number;
}

/** Draws `n` samples with EDM Heun from standard-normal noise of `key`, in chunks of {@link SAMPLE_CHUNK}. */
const sampleDigits = (kernels: NetKernels, loaded: LoadedModel, n: number, key: RngKey): Digits => {
  const space = tensorBatchSpace<Float32Array>();
  const sampleShape = loaded.model.network.sampleShape;
  const width = sampleShape.reduce((a, b) => a * b, 1);
  const noise = space.normalLike(foldIn(key, 0), {
    shape: [n, ...sampleShape],
    data: new Float32Array(n * width),
  });
  const out = new Float32Array(n * width);
  const sde = orFail(sdeByName(loaded.description.sde));
  const model = samplerModel(kernels, loaded.model, loaded.ema);
  const chain = orFail(discreteChain(loaded.description, model));
  const t0 = performance.now();
  let nfe = 0;
  for (let start = 0; start < n; start += SAMPLE_CHUNK) {
    const rows = Math.min(SAMPLE_CHUNK, n - start);
    const chunk = {
      shape: [rows, ...sampleShape],
      data: noise.data.slice(start * width, (start + rows) * width),
    };
    const solution = runSamplerFamily("edm", {
      space,
      model,
      sde,
      schedule: chain.schedule,
      noise: chunk,
      key: foldIn(key, 1),
      steps: EDM_STEPS,
    });
    const { y, nfe: evaluations } = orFail(solution);
    nfe = evaluations;
    for (let i = 0; i < y.data.length; i++) out[start * width + i] = Math.min(1, Math.max(-1, y.data[i]));
    process.stderr.write(`sampling: ${start + rows}/${n}  ${seconds(t0)}\n`);
  }
  return { images: { shape: [n, ...sampleShape], data: out }, nfe };
};

await runCommand(async () => {
  if (flags.model === undefined) throw cliFailure("--model <checkpoint dir> is required");
  const n = positiveInteger("n", flags.n);
  const steps = positiveInteger("classifier-steps", flags["classifier-steps"]);
  const key = orFail(rngKey(Number(flags.seed)));
  const loaded = await loadModel(flags.model);
  const shape = loaded.model.network.sampleShape;
  if (shape.join(",") !== "1,16,16")
    throw cliFailure(
      `--model ${flags.model} draws images [${shape.join(", ")}], not MNIST digits [1, 16, 16]`,
    );
  const backend = orFail(await createBackend(flags.backend as BackendRequest));
  const kernels = orFail(netKernels(backend));
  const train = orFail(await loadMnist("train", MNIST16));
  const test = orFail(await loadMnist("test", MNIST16));

  const net = classifier(orFail(classifierConfig({ sampleShape: [1, 16, 16] })));
  let t0 = performance.now();
  const training = classifierTrainSteps(kernels, net, train, {
    key: foldIn(key, 2),
    steps,
    batchSize: CLASSIFIER.batchSize,
    optimizer: orFail(adamConfig({ lr: CLASSIFIER.lr })),
  });
  let next = training.next();
  while (next.done !== true) {
    const s = orFail(next.value);
    if (s.step % 500 === 0 || s.step === steps)
      process.stderr.write(
        `classifier: step ${s.step}/${steps}  loss ${s.loss.toFixed(4)}  ${seconds(t0)}\n`,
      );
    next = training.next();
  }
  const theta = orFail(next.value);
  const accuracy = classifierAccuracy(
    orFail(classifierLogits(kernels, net, theta, test.images)),
    test.labels,
  );
  console.log(
    `classifier ${net.name}: ${steps} Adam steps of ${CLASSIFIER.batchSize} on the 60 000 train digits (${seconds(t0)}), test accuracy ${(100 * accuracy).toFixed(2)}% on 10 000`,
  );

  t0 = performance.now();
  const generated = sampleDigits(kernels, loaded, n, foldIn(key, 4));
  console.log(
    `${n} samples of ${flags.model}, EDM Heun ${EDM_STEPS} steps (${generated.nfe} NFE), ${seconds(t0)}`,
  );
  // As many real test digits (at most the 10 000 of the split), a seeded random subset.
  const m = Math.min(n, test.images.shape[0]);
  const real = gatherRows(
    test.images,
    epochPermutation(foldIn(key, 3), test.images.shape[0], 0).subarray(0, m),
  );
  const quality = (x: Tensor) => digitQuality(orFail(classifierProbabilities(kernels, net, theta, x)));
  console.log(
    `${"".padEnd(22)}${"coverage".padStart(9)}${"confidence".padStart(12)}${"entropy".padStart(10)}   histogram of predicted classes 0–9`,
  );
  console.log(report(`${n} model samples`, quality(generated.images)));
  console.log(report(`${m} real test digits`, quality(real)));
  console.log(`(entropy of equal classes: ln 10 = ${Math.log(10).toFixed(4)})`);
});
process.exit(process.exitCode ?? 0);
