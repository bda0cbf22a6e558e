import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { fillNormal, foldIn, rngKey } from "../../src/core/rng.js";
import type { Tensor, Tensor64 } from "../../src/core/tensor.js";
import { classifierAccuracy } from "../../src/metrics/digit-quality.js";
import {
  type Classifier,
  classifier,
  classifierConfig,
  classifierLogits,
  classifierProbabilities,
  classifierTrainSteps,
  softmax,
  softmaxCrossEntropy,
  trainClassifier,
} from "../../src/nets/classifier.js";
import { checkParameters, initParameters, networkGradients } from "../../src/nets/network.js";
import { adamConfig } from "../../src/nets/optim/adam.js";
import type { NetKernels } from "../../src/nets/tape.js";
import { loadMnist } from "../../src/node/datasets.js";
import { directionalError, normalTensor, webasmKernels } from "../support/nets-fixtures.js";

let kernels: NetKernels;
beforeAll(async () => {
  kernels = await webasmKernels();
});

const key = orThrow(rngKey(11));
const table = (n: number, k: number, seed: number, scale = 3): Tensor64 => {
  const data = fillNormal(foldIn(key, seed), new Float64Array(n * k));
  return { shape: [n, k], data: data.map((v) => scale * v) };
};
const rowSums = (p: Tensor64): number[] => {
  const [n, k] = p.shape;
  return Array.from({ length: n }, (_, r) => p.data.subarray(r * k, (r + 1) * k).reduce((a, b) => a + b, 0));
};

describe("softmax", () => {
  it("rows are probabilities summing to 1, exp(z)/Σexp(z) on a small example", () => {
    const z: Tensor64 = { shape: [2, 3], data: Float64Array.from([0, Math.log(2), Math.log(5), 1, 1, 1]) };
    const p = softmax(z);
    expect(Array.from(p.data)).toEqual(
      [1 / 8, 2 / 8, 5 / 8, 1 / 3, 1 / 3, 1 / 3].map((v) => expect.closeTo(v, 15)),
    );
    const q = softmax(table(50, 10, 1, 20));
    for (const s of rowSums(q)) expect(s).toBeCloseTo(1, 14);
    expect(q.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it("is invariant to adding a constant to a row, and does not overflow for logits of ±1000", () => {
    const z = table(20, 10, 2);
    const c = Float64Array.from({ length: 20 }, (_, r) => 1000 * (r % 2 === 0 ? 1 : -1) + r);
    const shifted: Tensor64 = { shape: z.shape, data: z.data.map((v, j) => v + c[Math.floor(j / 10)]) };
    const [p, q] = [softmax(z), softmax(shifted)];
    for (let j = 0; j < p.data.length; j++) expect(q.data[j]).toBeCloseTo(p.data[j], 12);
  });
});

describe("softmaxCrossEntropy", () => {
  it("is ln K for equal logits and −ln p_y = ln Σexp z − z_y in general", () => {
    const equal: Tensor64 = { shape: [3, 10], data: new Float64Array(30).fill(0.7) };
    expect(softmaxCrossEntropy(equal, [0, 4, 9]).loss).toBeCloseTo(Math.log(10), 14);
    const z = table(4, 5, 3);
    const labels = [0, 3, 4, 1];
    const p = softmax(z).data;
    const expected = labels.reduce((a, y, r) => a - Math.log(p[r * 5 + y]), 0) / 4;
    expect(softmaxCrossEntropy(z, labels).loss).toBeCloseTo(expected, 12);
  });

  it("stays finite for a confident wrong answer (z_y − max z = −10⁴)", () => {
    const z: Tensor64 = { shape: [1, 2], data: Float64Array.from([1e4, 0]) };
    const { loss, dOutput } = softmaxCrossEntropy(z, [1]);
    expect(loss).toBeCloseTo(1e4, 8);
    expect(Array.from(dOutput)).toEqual([1, -1]);
  });

  it("∂L/∂z = (softmax(z) − onehot)/N matches central differences of L", () => {
    const [n, k] = [6, 10];
    const z = table(n, k, 4);
    const labels = [0, 9, 3, 3, 7, 1];
    const { dOutput } = softmaxCrossEntropy(z, labels);
    const h = 1e-5;
    for (let j = 0; j < n * k; j++) {
      const at = (d: number) =>
        softmaxCrossEntropy({ shape: z.shape, data: z.data.map((v, i) => (i === j ? v + d : v)) }, labels)
          .loss;
      const numeric = (at(h) - at(-h)) / (2 * h);
      expect(Math.abs(dOutput[j] - numeric)).toBeLessThan(1e-7);
    }
    // Each row of the gradient sums to (1 − 1)/N = 0.
    for (let r = 0; r < n; r++)
      expect(Math.abs(dOutput.subarray(r * k, (r + 1) * k).reduce((a, b) => a + b, 0))).toBeLessThan(1e-7);
  });
});

describe("classifier", () => {
  it("default architecture: [16, 32] convs, 128 hidden, 10 classes, 71 754 parameters; config rules", () => {
    const c = classifier(orThrow(classifierConfig({ sampleShape: [1, 16, 16] })));
    expect(c.name).toBe("Classifier[16, 32]→128→10");
    expect(c.parameters.map((s) => [s.name, s.shape])).toEqual([
      ["conv.0.weight", [16, 1, 3, 3]],
      ["conv.0.bias", [16]],
      ["conv.1.weight", [32, 16, 3, 3]],
      ["conv.1.bias", [32]],
      ["hidden.weight", [128, 512]],
      ["hidden.bias", [128]],
      ["output.weight", [10, 128]],
      ["output.bias", [10]],
    ]);
    expect(c.parameters.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0)).toBe(71_754);
    expect(E.isRight(checkParameters(c, initParameters(c, key)))).toBe(true);
    // Odd sizes: 7 → 4 → 2 (⌊(n − 1)/2⌋ + 1); no convolutions: an MLP on the 3·5·7 pixels.
    const odd = classifier(
      orThrow(classifierConfig({ sampleShape: [2, 7, 9], channels: [3, 5], classes: 4 })),
    );
    expect(odd.parameters.find((s) => s.name === "hidden.weight")?.shape).toEqual([128, 5 * 2 * 3]);
    const mlp = classifier(orThrow(classifierConfig({ sampleShape: [3, 5, 7], channels: [], hidden: 8 })));
    expect(mlp.parameters.map((s) => s.name)).toEqual([
      "hidden.weight",
      "hidden.bias",
      "output.weight",
      "output.bias",
    ]);
    expect(mlp.parameters[0].shape).toEqual([8, 105]);
    const bad = [
      classifierConfig({ sampleShape: [1, 16] as unknown as [number, number, number] }),
      classifierConfig({ sampleShape: [1, 16, 0] }),
      classifierConfig({ sampleShape: [1, 16, 16], classes: 1 }),
      classifierConfig({ sampleShape: [1, 16, 16], channels: [16, 2.5] }),
      classifierConfig({ sampleShape: [1, 16, 16], hidden: 0 }),
    ];
    expect(bad.map((r) => (E.isLeft(r) ? r.left.field : "ok"))).toEqual([
      "sampleShape",
      "sampleShape[2]",
      "classes",
      "channels[1]",
      "hidden",
    ]);
  });

  it("the tape's ∂L/∂θ of the cross-entropy matches finite differences, for every parameter", () => {
    const c = classifier(
      orThrow(classifierConfig({ sampleShape: [2, 6, 5], channels: [3, 4], hidden: 6, classes: 3 })),
    );
    const params = initParameters(c, foldIn(key, 5));
    const x = normalTensor(foldIn(key, 6), [4, 2, 6, 5]);
    const labels = [0, 2, 1, 2];
    const loss = (z: Tensor) => softmaxCrossEntropy(z, labels);
    const g = orThrow(networkGradients(kernels, c, params, x, new Float64Array(4), loss));
    const f = (p: typeof params) =>
      softmaxCrossEntropy(orThrow(classifierLogits(kernels, c, p, x)), labels).loss;
    for (const spec of c.parameters) {
      const e = directionalError(f, params, g.gradients, [spec.name], 2e-2);
      expect(e.relative, spec.name).toBeLessThan(2e-3);
    }
  });

  it("batched logits equal one pass; probabilities are their softmax; bad images are a Left", () => {
    const c = classifier(orThrow(classifierConfig({ sampleShape: [1, 8, 8], channels: [4], hidden: 8 })));
    const params = initParameters(c, foldIn(key, 7));
    const x = normalTensor(foldIn(key, 8), [7, 1, 8, 8]);
    const whole = orThrow(classifierLogits(kernels, c, params, x, 7));
    const chunked = orThrow(classifierLogits(kernels, c, params, x, 3));
    expect(whole.shape).toEqual([7, 10]);
    expect(Array.from(chunked.data)).toEqual(Array.from(whole.data));
    const p = orThrow(classifierProbabilities(kernels, c, params, x, 2));
    expect(Array.from(p.data)).toEqual(Array.from(softmax(whole).data));
    const wrong = classifierLogits(kernels, c, params, normalTensor(key, [2, 1, 8, 7]));
    expect(E.isLeft(wrong) && wrong.left.field).toBe("images.shape");
    expect(E.isLeft(classifierLogits(kernels, c, params, x, 0))).toBe(true);
  });

  it("training rejects bad labels, counts and options, and is deterministic given the key", () => {
    const c = classifier(
      orThrow(classifierConfig({ sampleShape: [1, 4, 4], channels: [], hidden: 4, classes: 3 })),
    );
    const images = normalTensor(foldIn(key, 9), [5, 1, 4, 4]);
    const options = { key, steps: 3, batchSize: 2, optimizer: orThrow(adamConfig()) };
    const fieldOf = (r: E.Either<{ readonly field: string }, unknown>) => (E.isLeft(r) ? r.left.field : "ok");
    expect(fieldOf(trainClassifier(kernels, c, { images, labels: [0, 1, 2, 3, 0] }, options))).toBe(
      "labels[3]",
    );
    expect(fieldOf(trainClassifier(kernels, c, { images, labels: [0, 1, 2, 1.5, 0] }, options))).toBe(
      "labels[3]",
    );
    expect(fieldOf(trainClassifier(kernels, c, { images, labels: [0, 1] }, options))).toBe("labels.length");
    expect(
      fieldOf(trainClassifier(kernels, c, { images, labels: [0, 1, 2, 1, 0] }, { ...options, steps: 0 })),
    ).toBe("steps");
    const data = { images, labels: [0, 1, 2, 1, 0] };
    const steps = [...classifierTrainSteps(kernels, c, data, options)].map(orThrow);
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3]);
    const again = orThrow(trainClassifier(kernels, c, data, options));
    for (const [name, t] of steps[2].parameters)
      expect(Array.from(again.get(name)?.data ?? [])).toEqual(Array.from(t.data));
  });

  it("reaches ≥ 90% accuracy on 2000 held-out 16×16 MNIST test digits after 300 Adam steps of 64 (92.8%)", async () => {
    const options = { downsample: 2, pad: 1 } as const;
    const [train, test] = [
      orThrow(await loadMnist("train", options)),
      orThrow(await loadMnist("test", options)),
    ];
    const c: Classifier = classifier(orThrow(classifierConfig({ sampleShape: [1, 16, 16] })));
    const params = orThrow(
      trainClassifier(kernels, c, train, {
        key,
        steps: 300,
        batchSize: 64,
        optimizer: orThrow(adamConfig({ lr: 2e-3 })),
      }),
    );
    const held = { shape: [2000, 1, 16, 16], data: test.images.data.subarray(0, 2000 * 256) };
    const accuracy = classifierAccuracy(
      orThrow(classifierLogits(kernels, c, params, held)),
      test.labels.subarray(0, 2000),
    );
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  }, 60_000);
});
