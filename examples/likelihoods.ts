import {
  binWidth,
  dequantize,
  discreteBitsPerDim,
  finiteDifferenceDivergence,
  foldIn,
  gaussianMixture,
  hutchinsonDivergence,
  hutchinsonProbes,
  mixtureMean,
  mixtureOracle,
  type Ode,
  odeLikelihood,
  oracleScoreDivergence,
  orThrow,
  type ProbeDistribution,
  priorLogDensities,
  probabilityFlow,
  probabilityFlowDivergence,
  probabilityFlowLikelihood,
  type Quantization,
  quantization,
  quantize,
  randomMixture,
  rngKey,
  type Tensor64,
  tensorSpace,
  toSde,
  veSde,
  vpSde,
} from "scoreflow";

// Data whose log-density is known exactly: a random 8-D mixture of 3 full-covariance Gaussians, under VP.
const d = 8;
const key = orThrow(rngKey(7));
const data = orThrow(randomMixture(foldIn(key, 0), { dim: d, components: 3 }));
const sde = orThrow(vpSde()); // β from 0.1 to 20 on [10⁻³, 1]
const oracle = mixtureOracle(sde, data); // exact log p_t and ∇log p_t at every t
const x = oracle.sample(foldIn(key, 1), 4, 0); // 4 exact draws from p_0
const t0 = 1e-5; // where the data sit (Song et al. 2021, App. D.2)

const mean = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0) / v.length;
const sd = (v: ArrayLike<number>) => {
  const mu = mean(v);
  return Math.sqrt(Array.from(v, (u) => (u - mu) ** 2).reduce((a, b) => a + b, 0) / (v.length - 1));
};
const fix = (v: number, digits: number, width: number) => v.toFixed(digits).padStart(width);
const sci = (v: number, width: number) => v.toExponential(1).padStart(width);
const meanSe = (v: ArrayLike<number>, digits: number) =>
  `${fix(mean(v), digits, digits + 4)} ± ${(sd(v) / Math.sqrt(v.length)).toFixed(digits)}`;

// 1. log p_t0(x) = log p_T(x(T)) + ∫ ∇·v dt, with the trace of ∂v/∂x by central differences.
const flow = orThrow(probabilityFlowLikelihood(sde, oracle.score, x, { t0 }));
const exact = oracle.logDensity(x, t0);
const atT = oracle.logDensity(flow.latent, sde.tMax); // the true p_T at x(T), where the prior stands in
console.log("row   exact log p/d   flow log p/d   error/d   error/d (true p_T)");
for (let r = 0; r < x.shape[0]; r++) {
  const withTrueT = flow.logLikelihood[r] - flow.logPrior[r] + atT[r];
  console.log(
    `${String(r).padStart(3)} ${fix(exact[r] / d, 6, 15)} ${fix(flow.logLikelihood[r] / d, 6, 14)}` +
      `${sci((flow.logLikelihood[r] - exact[r]) / d, 10)} ${sci((withTrueT - exact[r]) / d, 20)}`,
  );
}
console.log(`${flow.steps} Dormand–Prince steps, ${flow.nfe} batched calls of the score`);

// The lecture notes' flow without the ½, dx/dt = f·x − g²·∇log p_t, through the same likelihood solve.
const space = tensorSpace<Float64Array>();
const withoutHalf: Ode<Tensor64> = {
  name: "probability flow without ½",
  tMin: sde.tMin,
  tMax: sde.tMax,
  vectorField: (y, t) =>
    space.combine([
      [sde.f(t), y],
      [-(sde.g(t) ** 2), oracle.score(y, t)],
    ]),
};
const wrong = orThrow(odeLikelihood(withoutHalf, (z) => priorLogDensities(sde, z), x, { t0 }));
const rms = (y: Tensor64) => Math.sqrt(mean(y.data.map((v) => v * v)));
console.log(
  `without the ½: rms of x(T) ${rms(wrong.latent).toFixed(0)} (with it ${rms(flow.latent).toFixed(2)}),` +
    ` error/d ${sci((wrong.logLikelihood[0] - exact[0]) / d, 0)} on row 0`,
);

// 2. Hutchinson, ∇·v = E_ε[εᵀJε]: 4000 probes at one point and t = 0.5, one probe per row of a batch.
const field = probabilityFlow(space, toSde(space)(sde), oracle.score).vectorField;
const tMid = 0.5;
const x0: Tensor64 = { shape: [1, d], data: x.data.slice(0, d) };
const trace = finiteDifferenceDivergence(field, x0, tMid)[0];
const closedForm = probabilityFlowDivergence(sde, oracleScoreDivergence(oracle))(x0, tMid)[0];
console.log(
  `∇·v at row 0, t = ${tMid}: ${trace.toFixed(6)} (finite differences), ${closedForm.toFixed(6)} (exact)`,
);
// J = f·I − ½g²·∇²log p_t is symmetric: Var εᵀJε = 2·Σ_{i≠j} J_ij² (Rademacher), 2·Σ_ij J_ij² (Gaussian).
const h = 1e-4;
const shifted = (j: number, step: number): Tensor64 => ({
  shape: [1, d],
  data: x0.data.map((v, i) => (i === j ? v + step : v)),
});
let [diagonal, offDiagonal] = [0, 0];
for (let j = 0; j < d; j++) {
  const [plus, minus] = [field(shifted(j, h), tMid).data, field(shifted(j, -h), tMid).data];
  for (let i = 0; i < d; i++) {
    const jij = (plus[i] - minus[i]) / (2 * h);
    if (i === j) diagonal += jij * jij;
    else offDiagonal += jij * jij;
  }
}
const n = 4000;
const copies: Tensor64 = {
  shape: [n, d],
  data: Float64Array.from({ length: n * d }, (_, i) => x0.data[i % d]),
};
for (const [probe, variance] of [
  ["rademacher", 2 * offDiagonal],
  ["gaussian", 2 * (offDiagonal + diagonal)],
] as const) {
  const estimates = hutchinsonDivergence(field, copies, tMid, hutchinsonProbes(foldIn(key, 2), probe, n, d));
  const spread = `sd ${sd(estimates).toFixed(3)} (theory ${Math.sqrt(variance).toFixed(3)})`;
  console.log(`${probe.padEnd(10)} mean ${meanSe(estimates, 3)}   ${spread}`);
}

// The whole solve with one probe per point, kept for the solve (FFJORD, score_sde), over 32 keys.
const keys = 32;
const hutchinson = (probe: ProbeDistribution) =>
  Array.from({ length: keys }, (_, k) =>
    orThrow(
      probabilityFlowLikelihood(sde, oracle.score, x, {
        t0,
        divergence: { kind: "hutchinson", probe, key: foldIn(foldIn(key, 3), k) },
      }),
    ),
  );
const runs = [hutchinson("rademacher"), hutchinson("gaussian")];
console.log("row   exact trace   Rademacher: mean ± se (sd over keys)   Gaussian: mean ± se (sd over keys)");
for (let r = 0; r < x.shape[0]; r++) {
  const cells = runs.map((list) => {
    const perDim = list.map((result) => result.logLikelihood[r] / d);
    return `${meanSe(perDim, 4)} (${sd(perDim).toFixed(4)})`;
  });
  console.log(
    `${String(r).padStart(3)} ${fix(flow.logLikelihood[r] / d, 4, 13)}   ${cells.join(" ".repeat(14))}`,
  );
}
const nfes = runs.flat().map((result) => result.nfe);
console.log(
  `calls of the score per solve: exact ${flow.nfe}, Hutchinson ${Math.min(...nfes)}–${Math.max(...nfes)}`,
);

// 3. Bits/dim of k-bit data. Known answer: a density uniform on [−1, 1]^d gives exactly k bits/dim.
const eightBit = orThrow(quantization({ bits: 8 })); // levels 0…255 on [−1, 1], bin width Δ = 2⁻⁷
console.log(`uniform density, 8-bit data: ${discreteBitsPerDim(eightBit, -d * Math.LN2, d)} bits/dim`);
// 2-D data inside [−1, 1]², and its exact bin probabilities P(q) = ∫_bin p_0 by 5×5-point Gauss–Legendre.
const pixels = mixtureOracle(
  sde,
  orThrow(
    gaussianMixture({
      weights: [0.4, 0.6],
      means: [
        [-0.4, -0.3],
        [0.35, 0.4],
      ],
      variances: 0.04,
    }),
  ),
);
const nodes = [-0.906179845938664, -0.5384693101056831, 0, 0.5384693101056831, 0.906179845938664];
const weights = [
  0.2369268850561891, 0.4786286704993665, 0.5688888888888889, 0.4786286704993665, 0.2369268850561891,
];
const binProbability = (q: Quantization, level: ArrayLike<number>): number => {
  const delta = binWidth(q);
  const at = (l: number, node: number) => q.low + (l + 0.5 + 0.5 * node) * delta;
  const points = nodes.flatMap((u) => nodes.flatMap((v) => [at(level[0], u), at(level[1], v)]));
  const density = pixels.logDensity({ shape: [25, 2], data: Float64Array.from(points) }, 0);
  const w = weights.flatMap((a) => weights.map((b) => (a * b * delta * delta) / 4));
  return w.reduce((acc, wi, i) => acc + wi * Math.exp(density[i]), 0);
};
const samples = pixels.sample(foldIn(key, 4), 2000, 0);
// To second order in Δ the Jensen gap is Δ²·E‖∇log p‖²/(24·d·ln 2) bits/dim.
const scores = pixels.score(samples, 0).data;
const fisher = mean(scores.map((v) => v * v)) * 2; // E‖∇log p_0‖², 2 coordinates per point
console.log(" k   continuous bpd   dequantized bpd   exact −log₂P(q)/2    gap: mean ± se   second-order gap");
for (const bits of [3, 5, 8]) {
  const q = orThrow(quantization({ bits }));
  const levels = orThrow(quantize(q, samples)); // the k-bit data set
  const y = orThrow(dequantize(q, levels, foldIn(foldIn(key, 5), bits))); // low + (level + u)·Δ, u ~ U[0, 1)²
  const result = orThrow(probabilityFlowLikelihood(sde, pixels.score, y, { t0 }));
  const bpd = result.logLikelihood.map((lp) => discreteBitsPerDim(q, lp, 2));
  const truth = bpd.map((_, r) => -Math.log2(binProbability(q, levels.data.subarray(2 * r, 2 * r + 2))) / 2);
  const gaps = bpd.map((b, r) => b - truth[r]);
  const theory = (binWidth(q) ** 2 * fisher) / (24 * 2 * Math.LN2);
  console.log(
    `${String(bits).padStart(2)} ${fix(mean(result.bitsPerDim), 4, 16)} ${fix(mean(bpd), 4, 17)}` +
      ` ${fix(mean(truth), 4, 19)} ${meanSe(gaps, 4)} ${fix(theory, 4, 19)}`,
  );
}

// 4. The prior at T: the flow carries p_t0 to p_T, but the solve scores x(T) under the prior N(0, σ_p²·I).
const meanNorm2 = mixtureMean(data).reduce((acc, v) => acc + v * v, 0); // ‖E x₀‖²
const batch = oracle.sample(foldIn(key, 6), 2000, 0);
console.log(
  "SDE, T           s(T)  σ(T)/s(T)    gap/d: mean ± se (sd)" +
    "            KL(p_T‖prior)/d ± se   ‖s·E x₀‖²/(2σ_p²d)",
);
for (const [name, s] of [
  ["VP, T = 0.25", orThrow(vpSde({ tMax: 0.25 }))],
  ["VP, T = 0.5", orThrow(vpSde({ tMax: 0.5 }))],
  ["VP, T = 1", sde],
  ["VE, σmax = 50", orThrow(veSde())],
] as const) {
  const o = mixtureOracle(s, data);
  const divergence = probabilityFlowDivergence(s, oracleScoreDivergence(o)); // exact, no extra calls
  const result = orThrow(
    probabilityFlowLikelihood(s, o.score, batch, { t0, divergence: { kind: "analytic", divergence } }),
  );
  const truth = o.logDensity(batch, t0);
  const gap = result.logLikelihood.map((lp, r) => (lp - truth[r]) / d);
  const z = o.sample(foldIn(key, 7), 20000, s.tMax); // exact draws from p_T
  const prior = priorLogDensities(s, z);
  const logRatio = o.logDensity(z, s.tMax).map((lp, i) => (lp - prior[i]) / d); // mean: KL(p_T ‖ prior)/d
  const [scale, noise] = [s.scale(s.tMax), s.std(s.tMax) / s.scale(s.tMax)];
  const leading = (scale ** 2 * meanNorm2) / (2 * s.priorStd ** 2 * d);
  console.log(
    `${name.padEnd(13)} ${fix(scale, 4, 7)} ${fix(noise, 2, 10)}` +
      `   ${meanSe(gap, 5)} (${sd(gap).toFixed(5)})   ${meanSe(logRatio, 5)}${fix(leading, 5, 25)}`,
  );
}
