/**
 * The playground in a real browser: build web/ with Vite, serve the build over HTTP, drive Debian's Chromium
 * with playwright-core, and check that the page loads without console errors, that sampling runs to the end and
 * draws exactly the samples the library computes in Node for the same call (network and exact-score models,
 * deterministic and stochastic samplers, the in-browser training run included), that every control has a label
 * and the keyboard reaches it, that the page fits a phone's width, and save a screenshot to out/playground.png.
 *
 * Needs Chromium at /usr/bin/chromium (Debian: `apt-get install chromium`) or at $CHROMIUM_PATH, and the exported
 * model in models/checkerboard (or $PLAYGROUND_MODEL_DIR, which web/vite.config.ts reads too); without either,
 * the first test fails saying how to get it.
 */
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildScoreModel,
  checkParameters,
  createBackend,
  type DdpmSchedule,
  type DiffusionModel,
  discreteChain,
  type ModelDescription,
  type NetKernels,
  netKernels,
  orThrow,
  rngKey,
  runSamplerFamily,
  type SamplerFamily,
  samplerModel,
  type Tensor,
  tensorBatchSpace,
  trainSteps,
  veSde,
  vpSde,
} from "../../src/index.js";
import { loadModelFile } from "../../src/node/index.js";
import { exactModel, samplingInputs, trainingRun, vpChain } from "../../web/models.js";
import type { SamplingProbe } from "../../web/probe.js";
import {
  buildAndServe,
  chromiumMissing,
  launchChromium,
  ROOT,
  type ServedBuild,
} from "../support/browser.js";

/** The exported model the page ships (web/vite.config.ts reads the same variable). */
const MODEL_DIR = process.env.PLAYGROUND_MODEL_DIR ?? join(ROOT, "models", "checkerboard");
const SCREENSHOT = join(ROOT, "out", "playground.png");

/** The largest |a_i − b_i|, or +∞ when the lengths differ. */
const maxDifference = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  if (a.length !== b.length) return Number.POSITIVE_INFINITY;
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

const space = tensorBatchSpace<Float32Array>();

/** What the page's controls are set to for one sampling run. */
interface Run {
  readonly model: "pretrained" | "exact" | "trained";
  readonly toy: string;
  readonly sde: "vp" | "ve";
  readonly family: SamplerFamily;
  readonly steps: number;
  readonly n: number;
  readonly seed: number;
}

/** What the suite needs and lacks, each with how to get it. */
const missing = [
  chromiumMissing(),
  existsSync(join(MODEL_DIR, "model.json"))
    ? ""
    : `${MODEL_DIR} is missing: the playground ships the exported checkerboard model ` +
      "(scoreflow export --model <checkpoint> --out models/checkerboard).",
].filter((m) => m !== "");

it("finds Chromium and the shipped checkerboard model", () => {
  // Fails, never skips, without them: the suite below cannot run, and says how to fix it.
  expect(missing, missing.join("\n")).toEqual([]);
});

describe.skipIf(missing.length > 0)("the playground in Chromium", () => {
  let browser: Browser;
  let page: Page;
  let served: ServedBuild;
  let kernels: NetKernels;
  const problems: string[] = [];
  const warnings: string[] = [];

  beforeAll(async () => {
    served = await buildAndServe();
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
      if (message.type() === "warning") warnings.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
    const backend = orThrow(await createBackend("webasm"));
    kernels = orThrow(netKernels(backend));
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  /** Sets the controls of `on` (default: the suite's page) for `run`, starts it from the keyboard, waits for the end. */
  const sampleOnPage = async (run: Run, on: Page = page): Promise<SamplingProbe> => {
    await on.selectOption("#toy", run.toy);
    await on.selectOption("#sde", run.sde);
    await on.selectOption("#model", run.model);
    await on.selectOption("#family", run.family);
    if (run.family !== "pf-rk45") await on.fill("#steps", String(run.steps));
    await on.fill("#particles", String(run.n));
    await on.fill("#seed", String(run.seed));
    await on.focus("#sample");
    await on.keyboard.press("Enter");
    await on.waitForFunction(
      () => window.playground !== undefined && ["done", "failed"].includes(window.playground.sampling.status),
      null,
      { timeout: 60_000 },
    );
    return on.evaluate(() => {
      const probe = window.playground;
      if (probe === undefined) throw new Error("no window.playground");
      return probe.sampling;
    });
  };

  /** The samples of the same call in Node: the library's runSamplerFamily with the page's noise and key. */
  const sampleInNode = (
    run: Run,
    models: {
      readonly model: DiffusionModel<Tensor>;
      readonly schedule: DdpmSchedule;
      readonly discreteModel: DiffusionModel<Tensor>;
    },
  ): Float32Array => {
    const { noise, key } = orThrow(samplingInputs(run.seed, run.n));
    const sde = orThrow(run.sde === "vp" ? vpSde() : veSde());
    return orThrow(runSamplerFamily(run.family, { space, sde, noise, key, steps: run.steps, ...models })).y
      .data;
  };

  const networkModels = (description: ModelDescription, parameters: ReadonlyMap<string, Tensor>) => {
    const model = samplerModel(kernels, orThrow(buildScoreModel(description)), parameters);
    const chain = orThrow(discreteChain(description, model));
    return { model, schedule: chain.schedule, discreteModel: chain.model };
  };

  /**
   * The page's training recipe for `steps` steps on `run`'s toy and seed, with the library's training loop on
   * the Node side's webasm kernels, then `run` sampled from its EMA weights.
   */
  const trainedAndSampledInNode = (run: Run, steps: number): Float32Array => {
    const training = orThrow(trainingRun(run.toy as "swissRoll", run.seed, steps, orThrow(rngKey(run.seed))));
    let state = training.state;
    for (const step of trainSteps(
      kernels,
      training.model,
      training.loss,
      training.config,
      state,
      training.data,
    )) {
      if (E.isLeft(step)) throw new Error(step.left.message);
      state = step.right.state;
    }
    return sampleInNode(run, networkModels(training.description, state.ema));
  };

  /** The shipped checkerboard network as the page samples it, on the Node side's webasm kernels. */
  const shippedModels = async () => {
    const shipped = orThrow(await loadModelFile(MODEL_DIR));
    const description = shipped.model as unknown as ModelDescription;
    const parameters = orThrow(
      checkParameters(orThrow(buildScoreModel(description)).network, shipped.weights),
    );
    return networkModels(description, parameters);
  };

  it("loads without console errors, with the backend's report and the shipped model checked", async () => {
    await page.goto(served.url);
    await page.waitForFunction(() => window.playground?.ready === true, null, { timeout: 30_000 });
    const probe = await page.evaluate(() => window.playground);
    expect(probe?.backend).toBe("webasm");
    expect(probe?.pretrained).toBe("loaded");
    expect(await page.textContent("#backend-report")).toMatch(
      /network ops run on webasm:\n {2}linear: wasm-simd/,
    );
    expect(await page.textContent("#model-info")).toMatch(/SHA-256/);
    expect(await page.inputValue("#model")).toBe("pretrained");
    expect(problems).toEqual([]);
  }, 60_000);

  it("draws the samples the library computes in Node for the same call (shipped network, exact score)", async () => {
    const network = await shippedModels();
    const runs: readonly Run[] = [
      { model: "pretrained", toy: "checkerboard", sde: "vp", family: "edm", steps: 18, n: 500, seed: 0 },
      { model: "pretrained", toy: "checkerboard", sde: "vp", family: "ddpm", steps: 40, n: 300, seed: 1 },
      { model: "exact", toy: "twoMoons", sde: "vp", family: "reverse-sde", steps: 60, n: 400, seed: 7 },
      { model: "exact", toy: "eightGaussians", sde: "vp", family: "dpmpp-2m", steps: 15, n: 300, seed: 2 },
      { model: "exact", toy: "checkerboard", sde: "ve", family: "edm", steps: 18, n: 300, seed: 3 },
    ];
    for (const run of runs) {
      const probe = await sampleOnPage(run);
      expect(probe.message).toBe("");
      expect(probe.status).toBe("done");
      const models =
        run.model === "pretrained"
          ? network
          : (() => {
              const exact = orThrow(exactModel(run.toy as "twoMoons"));
              return { model: exact.model, schedule: orThrow(vpChain()), discreteModel: exact.model };
            })();
      const reference = sampleInNode(run, models);
      expect(probe.final?.length).toBe(2 * run.n);
      // Bit for bit: the same WebAssembly kernels and the same float64 JavaScript in V8 on both sides.
      expect(maxDifference(probe.final ?? [], reference), `${run.model} ${run.family}`).toBe(0);
    }
    expect(problems).toEqual([]);
  }, 120_000);

  it("parses a custom β(t), flags a bad one, moves the forward process and samples under it", async () => {
    await page.selectOption("#model", "exact");
    await page.selectOption("#sde", "custom");
    await page.fill("#beta", "0.1 + * t");
    expect(await page.textContent("#beta-error")).toMatch(/found "\*" at column 7/);
    expect(await page.isDisabled("#sample")).toBe(true);
    await page.fill("#beta", "0.1 + 19.9 t^2");
    expect(await page.textContent("#beta-error")).toBe("");
    await page.fill("#t", "500");
    expect(await page.textContent("#t-readout")).toMatch(/^t = 0\.500: s\(t\) = 0\.\d+, σ\(t\) = 0\.\d+/);
    await page.selectOption("#family", "pf-heun");
    await page.fill("#steps", "30");
    await page.click("#sample");
    await page.waitForFunction(() => window.playground?.sampling.status === "done", null, {
      timeout: 60_000,
    });
    const probe = await page.evaluate(() => window.playground?.sampling);
    expect(probe?.sde).toBe("β(t) = 0.1 + 19.9 t^2");
    expect(probe?.final?.every(Number.isFinite)).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  it("trains a network in the tab with a progress bar, exactly as the library trains it in Node", async () => {
    const [toy, seed, steps] = ["swissRoll", 5, 40] as const;
    await page.selectOption("#sde", "vp");
    await page.selectOption("#toy", toy);
    await page.fill("#seed", String(seed));
    await page.fill("#train-steps", String(steps));
    await page.click("#train");
    await page.waitForFunction(() => window.playground?.training.status === "done", null, {
      timeout: 60_000,
    });
    expect(
      await page.evaluate(() => (document.getElementById("train-progress") as HTMLProgressElement).value),
    ).toBe(steps);
    expect(await page.inputValue("#model")).toBe("trained");
    const run: Run = { model: "trained", toy, sde: "vp", family: "edm", steps: 10, n: 200, seed };
    const probe = await sampleOnPage(run);
    expect(probe.status).toBe("done");
    expect(maxDifference(probe.final ?? [], trainedAndSampledInNode(run, steps))).toBe(0);
    expect(problems).toEqual([]);
  }, 120_000);

  it("stops a run on request, and keeps what it drew", async () => {
    await page.selectOption("#model", "exact");
    await page.selectOption("#family", "ddpm");
    await page.fill("#steps", "1000");
    await page.fill("#particles", "2000");
    await page.click("#sample");
    await page.waitForFunction(() => (window.playground?.sampling.step ?? 0) > 0, null, { timeout: 30_000 });
    await page.click("#stop");
    await page.waitForFunction(() => window.playground?.sampling.status === "stopped", null, {
      timeout: 30_000,
    });
    const probe = await page.evaluate(() => window.playground?.sampling);
    expect(probe?.step).toBeLessThan(1000);
    expect(probe?.final).toBeUndefined();
    expect(await page.isEnabled("#sample")).toBe(true);
    expect(problems).toEqual([]);
  }, 60_000);

  it("switches backends on request: webgpu is reported and falls back, cpu and webgl2 run the network", async () => {
    await page.selectOption("#backend", "webgpu");
    await page.waitForFunction(() => !(document.getElementById("backend") as HTMLSelectElement).disabled);
    const report = await page.textContent("#backend-report");
    expect(report).toMatch(/^sampling on webgpu: nets backend: request is unavailable: no WebGPU adapter/);
    expect(report).toMatch(/network ops run on webasm/);
    await page.selectOption("#backend", "cpu");
    await page.waitForFunction(() => window.playground?.backend === "cpu" && window.playground.ready);
    expect(await page.textContent("#backend-report")).toMatch(/linear: gpujs-cpu/);
    const run: Run = {
      model: "pretrained",
      toy: "checkerboard",
      sde: "vp",
      family: "ddim",
      steps: 5,
      n: 100,
      seed: 4,
    };
    const probe = await sampleOnPage(run);
    expect(probe.status).toBe("done");
    // webgl2 on request, even on this software renderer: the shipped network's convolutions-free MLP runs its
    // linear layers as GLSL shaders, and the samples follow the Node (webasm) run within float32 round-off.
    await page.selectOption("#backend", "webgl2");
    await page.waitForFunction(() => window.playground?.backend === "webgl2" && window.playground.ready);
    expect(await page.textContent("#backend-report")).toMatch(/linear: gpujs-webgl2/);
    const onGl: Run = { ...run, family: "edm", steps: 12, n: 200, seed: 5 };
    const glProbe = await sampleOnPage(onGl);
    expect(glProbe.status).toBe("done");
    const glGap = maxDifference(glProbe.final ?? [], sampleInNode(onGl, await shippedModels()));
    expect(glGap).toBeGreaterThan(0);
    expect(glGap).toBeLessThan(1e-3);
    await page.selectOption("#backend", "auto");
    await page.waitForFunction(() => window.playground?.backend === "webasm");
    expect(problems).toEqual([]);
  }, 60_000);

  it("samples and trains networks on a WebGPU adapter (SwiftShader) as Node does, to float32 round-off", async () => {
    const gpuBrowser = await launchChromium(["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]);
    try {
      const gpuPage = await gpuBrowser.newPage({ viewport: { width: 1280, height: 1000 } });
      const errors: string[] = [];
      gpuPage.on("console", (m) => void (m.type() === "error" && errors.push(m.text())));
      gpuPage.on("pageerror", (e) => errors.push(e.message));
      await gpuPage.goto(served.url);
      await gpuPage.waitForFunction(() => window.playground?.ready === true, null, { timeout: 30_000 });
      // auto passes over a software adapter, and says so
      expect(await gpuPage.textContent("#backend-report")).toMatch(
        /sampling on webgpu: passed over, its adapter is software \(.*swiftshader.*\)/,
      );
      expect(await gpuPage.evaluate(() => window.playground?.gpu)).toBeUndefined();
      await gpuPage.selectOption("#backend", "webgpu");
      await gpuPage.waitForFunction(() => window.playground?.gpu !== undefined && window.playground.ready);
      expect(await gpuPage.textContent("#backend-report")).toMatch(
        /networks sample and train on webgpu \(.*swiftshader.*\)/,
      );
      expect(await gpuPage.textContent("#backend-status")).toMatch(/they sample and train on webgpu/);
      const network = await shippedModels();
      for (const run of [
        { model: "pretrained", toy: "checkerboard", sde: "vp", family: "edm", steps: 12, n: 200, seed: 5 },
        { model: "pretrained", toy: "checkerboard", sde: "vp", family: "ddim", steps: 10, n: 150, seed: 6 },
      ] as const) {
        const probe = await sampleOnPage(run, gpuPage);
        expect(probe.message).toBe("");
        // in the sampling worker, blocking on the GPU's answers (the test server isolates the page)
        expect(probe.route).toBe("worker");
        const gap = maxDifference(probe.final ?? [], sampleInNode(run, network));
        // the GPU's float32 sums differ from the WebAssembly kernels' in order only
        expect(gap, run.family).toBeGreaterThan(0);
        expect(gap, run.family).toBeLessThan(1e-4);
      }
      // training in the tab runs its passes on the GPU too, and lands where Node's CPU training lands
      const [toy, seed, steps] = ["swissRoll", 5, 40] as const;
      await gpuPage.selectOption("#toy", toy);
      await gpuPage.fill("#seed", String(seed));
      await gpuPage.fill("#train-steps", String(steps));
      await gpuPage.click("#train");
      await gpuPage.waitForFunction(() => window.playground?.training.status === "done", null, {
        timeout: 60_000,
      });
      expect(await gpuPage.textContent("#model-info")).toMatch(/on webgpu \(.*swiftshader.*\)/);
      const run: Run = { model: "trained", toy, sde: "vp", family: "edm", steps: 10, n: 200, seed };
      const probe = await sampleOnPage(run, gpuPage);
      const gap = maxDifference(probe.final ?? [], trainedAndSampledInNode(run, steps));
      expect(gap).toBeGreaterThan(0);
      expect(gap).toBeLessThan(1e-4);
      expect(errors).toEqual([]);
    } finally {
      await gpuBrowser.close();
    }
  }, 120_000);

  it("labels every control, reaches them in reading order by keyboard, and fits a phone's width", async () => {
    const unlabeled = await page.evaluate(() =>
      Array.from(document.querySelectorAll("input, select, button, progress, canvas"))
        .filter((el) => {
          const labels = "labels" in el ? (el as HTMLInputElement).labels : null;
          return !(
            (labels !== null && labels.length > 0) ||
            el.getAttribute("aria-label") ||
            (el.tagName === "BUTTON" && el.textContent?.trim())
          );
        })
        .map((el) => el.id),
    );
    expect(unlabeled).toEqual([]);
    // From the skip link, the first stop of the page, Tab walks the controls in reading order.
    await page.focus(".skip");
    const order: string[] = [];
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press("Tab");
      const id = await page.evaluate(() => document.activeElement?.id ?? "");
      if (id !== "" && !order.includes(id)) order.push(id);
    }
    const expected = ["toy", "sde", "t", "model", "family", "steps", "particles", "seed", "show-field"];
    expect(order.filter((id) => expected.includes(id))).toEqual(expected);
    expect(order.indexOf("sample")).toBeGreaterThan(order.indexOf("show-trails"));
    expect(order.indexOf("train")).toBeGreaterThan(order.indexOf("sample"));
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await mkdir(join(ROOT, "out"), { recursive: true });
    await page.screenshot({ path: join(ROOT, "out", "playground-phone.png"), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 1000 });
  }, 60_000);

  it("saves a screenshot after a full run, with no console error in the whole session", async () => {
    const run: Run = {
      model: "pretrained",
      toy: "checkerboard",
      sde: "vp",
      family: "pf-heun",
      steps: 40,
      n: 800,
      seed: 0,
    };
    await page.selectOption("#toy", run.toy);
    await page.fill("#t", "350");
    await page.dispatchEvent("#t", "input");
    const probe = await sampleOnPage(run);
    expect(probe.status).toBe("done");
    // Replay the run back to a state on the way, where the score field and the paths show.
    const frames = Number(await page.getAttribute("#replay", "max"));
    expect(frames).toBe(run.steps + 1);
    await page.fill("#replay", String(Math.round(0.8 * frames)));
    expect(await page.textContent("#read-step")).toBe(`${Math.round(0.8 * frames)} / ${run.steps + 1}`);
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    await mkdir(join(ROOT, "out"), { recursive: true });
    // The picture for the README: the header and the two panels of the first row, as the viewport.
    const bottom = await page.evaluate(
      () => window.scrollY + (document.querySelector(".panel-sampling")?.getBoundingClientRect().bottom ?? 0),
    );
    await page.setViewportSize({ width: 1280, height: Math.ceil(bottom) + 16 });
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: SCREENSHOT });
    await page.setViewportSize({ width: 1280, height: 1000 });
    expect(existsSync(SCREENSHOT)).toBe(true);
    expect(problems).toEqual([]);
    // Allowed: Chromium's own notes when no WebGPU adapter exists, and on each synchronous readback of the webgl2
    // run above (the network ops read their result back after each kernel, which its driver reports as a stall).
    const expected = (w: string) =>
      w === "No available adapters." || /GL Driver Message .*GPU stall due to ReadPixels/.test(w);
    expect(warnings.filter((w) => !expected(w))).toEqual([]);
  }, 60_000);
});
