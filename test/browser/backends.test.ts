/**
 * The network ops on every backend a real browser offers: Debian's Chromium, headless, with its software GPU
 * (SwiftShader) standing in for a graphics card — WebGL2 always, and a WebGPU adapter when asked for with
 * `--enable-unsafe-webgpu --use-webgpu-adapter=swiftshader`. The page (test/browser/backends/) is built with the
 * playground's Vite configuration, minifier included, and runs a small U-Net with attention and an MLP, forward
 * and backward, on webgl2 and webasm against the cpu backend.
 *
 * SwiftShader runs on the CPU, so the figures here say nothing of a GPU's speed: what is checked is that the GLSL
 * kernels compute the same network, and that "auto" chooses and reports as it should.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  buildAndServe,
  chromiumMissing,
  launchChromium,
  ROOT,
  type ServedBuild,
} from "../support/browser.js";
import type { BackendsCheck } from "./backends/main.js";

const missing = chromiumMissing();

it("finds Chromium", () => {
  // Fails, never skips, without it: the suite below cannot run, and says how to fix it.
  expect(missing).toBe("");
});

describe.skipIf(missing !== "")("network backends in Chromium (SwiftShader as the GPU)", () => {
  let browser: Browser;
  let served: ServedBuild;
  let result: BackendsCheck;
  const problems: string[] = [];

  beforeAll(async () => {
    served = await buildAndServe(`${ROOT}test/browser/backends`);
    browser = await launchChromium(["--enable-unsafe-webgpu", "--use-webgpu-adapter=swiftshader"]);
    const page = await browser.newPage();
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    await page.goto(served.url);
    result = await page.evaluate(
      () => (window as unknown as { backendsCheck: Promise<BackendsCheck> }).backendsCheck,
    );
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await served?.close();
  });

  const outcome = (request: string) => result.requests.find((r) => r.request === request)!;

  it("the page runs without console errors", () => {
    expect(problems).toEqual([]);
  });

  it("auto passes over the WebGPU adapter (ops are synchronous) and the software WebGL2 renderer, naming both", () => {
    const auto = outcome("auto");
    expect(auto.answer).toBe("webasm");
    expect(auto.fallbacks).toHaveLength(2);
    expect(auto.fallbacks[0]).toMatch(
      /^webgpu: an adapter answered \(.*swiftshader.*\), but the network ops are synchronous/,
    );
    expect(auto.fallbacks[1]).toMatch(/^webgl2: its renderer is software \(.*SwiftShader.*\)/);
  });

  it("an explicit webgpu request starts, and its network kernels are a Left that says why", () => {
    const gpu = outcome("webgpu");
    expect(gpu.answer).toBe("webgpu");
    expect(gpu.renderer).toMatch(/swiftshader/);
    expect(gpu.kernels).toMatch(
      /^conv2d: backend\.mode is not supported yet: webgpu kernels are asynchronous/,
    );
  });

  it("an explicit webgl2 request runs conv2d and linear as GLSL kernels", () => {
    const gl = outcome("webgl2");
    expect(gl.answer).toBe("webgl2");
    expect(gl.fallbacks).toEqual([]);
    expect(gl.renderer).toMatch(/SwiftShader/);
    expect(gl.kernels).toBe("conv2d gpujs-webgl2, linear gpujs-webgl2, attention wasm-simd");
  });

  it("webgpu runs the U-Nets and the MLPs forward and backward as the cpu backend does", () => {
    expect(typeof result.webgpu).not.toBe("string");
    const passes = result.webgpu as Exclude<BackendsCheck["webgpu"], string>;
    expect(passes.map((p) => p.network)).toEqual([
      "UNet2DModel",
      "MLP",
      "UNet2DModel",
      "EDM-preconditioned MLP",
    ]);
    for (const p of passes) {
      expect(p.output, `${p.network} output`).toBeLessThan(1e-5);
      expect(p.output, `${p.network} is not compared with itself`).toBeGreaterThan(0);
      expect(p.training.loss, `${p.network} loss`).toBeLessThan(1e-5);
      expect(p.training.gradients, `${p.network} gradients (worst: ${p.training.worst})`).toBeLessThan(3e-5);
    }
  });

  it("trains on webgpu as on cpu: 30 steps of the playground's run keep losses and EMA weights within 1e-4", () => {
    const { losses, ema, firstLoss, lastLoss } = result.training;
    expect(losses).toBeGreaterThan(0);
    expect(losses).toBeLessThan(1e-4);
    expect(ema).toBeLessThan(1e-4);
    expect(lastLoss).toBeLessThan(firstLoss);
  });

  it("webgpu passes free what they allocate: the live GPU buffers do not grow from pass 2 to pass 30", () => {
    const [after2, after40] = result.liveBuffers;
    expect(after2).toBeGreaterThan(0);
    expect(after40).toBe(after2);
  });

  it("webgl2 and webasm compute the U-Net and the MLP, forward and backward, as the cpu backend does", () => {
    expect(result.agreements.map((a) => `${a.mode} ${a.network}`)).toEqual([
      "webgl2 UNet2DModel",
      "webgl2 MLP",
      "webasm UNet2DModel",
      "webasm MLP",
    ]);
    for (const a of result.agreements) {
      // float32 sums in another order: relative to the largest value, a few ulps of the accumulated terms
      expect(a.output, `${a.mode} ${a.network} output`).toBeLessThan(1e-5);
      expect(a.gradients, `${a.mode} ${a.network} gradients (worst: ${a.worst})`).toBeLessThan(3e-5);
      expect(a.output + a.gradients, `${a.mode} ${a.network} is not compared with itself`).toBeGreaterThan(0);
    }
  });
});
