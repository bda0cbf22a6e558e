import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import {
  type BackendProbes,
  conv2dKernels,
  createBackend,
  disposeBackend,
  isSoftwareRenderer,
  linearKernels,
} from "../../src/nets/index.js";

const probes = (webgpu: boolean, webasm: boolean, webgl2?: string): BackendProbes => ({
  webgpu: async () => (webgpu ? "nvidia ampere" : undefined),
  webgl2: () => webgl2,
  webasm: () => webasm,
});

describe("createBackend", () => {
  it("creates an explicit cpu or webasm instance with an empty fallback list", async () => {
    for (const mode of ["cpu", "webasm"] as const) {
      const b = orThrow(await createBackend(mode));
      expect(b.mode).toBe(mode);
      expect(b.report).toEqual({ requested: mode, chosen: mode, fallbacks: [] });
      await disposeBackend(b);
    }
  });

  it("auto passes over an answering WebGPU adapter, saying why (the network ops are synchronous)", async () => {
    const a = orThrow(await createBackend("auto", probes(true, true)));
    expect(a.mode).toBe("webasm");
    expect(a.report.fallbacks).toEqual([
      expect.stringMatching(/^webgpu: an adapter answered \(nvidia ampere\), but the network ops/),
      expect.stringMatching(/^webgl2: /),
    ]);
    await disposeBackend(a);
  });

  it("auto falls back webgpu → webgl2 → webasm → cpu and says why at each step", async () => {
    const a = orThrow(await createBackend("auto", probes(false, true)));
    expect(a.mode).toBe("webasm");
    expect(a.report.fallbacks).toHaveLength(2);
    expect(a.report.fallbacks[0]).toMatch(/^webgpu: no WebGPU adapter answered/);
    expect(a.report.fallbacks[1]).toMatch(/^webgl2: no WebGL2 context could be made/);
    await disposeBackend(a);
    const c = orThrow(await createBackend("auto", probes(false, false)));
    expect(c.mode).toBe("cpu");
    expect(c.report.fallbacks.map((f) => f.split(":")[0])).toEqual(["webgpu", "webgl2", "webasm"]);
    await disposeBackend(c);
  });

  it("auto takes webgl2 on a hardware renderer, passes over a software one, and survives a failed start", async () => {
    // A hardware renderer is chosen; here, in Node, GPU.js cannot start webgl2, so auto reports that and goes on
    // (the webgl2 choice itself is checked in Chromium, test/browser/backends.test.ts).
    const hw = orThrow(await createBackend("auto", probes(false, true, "ANGLE (NVIDIA, Vulkan 1.3.277)")));
    expect(hw.mode).toBe("webasm");
    expect(hw.report.fallbacks[1]).toMatch(
      /^webgl2: ANGLE \(NVIDIA, Vulkan 1\.3\.277\): failed to start \(.+\)$/,
    );
    await disposeBackend(hw);
    // An explicit webgl2 request whose start fails is a Left, never a substitute (the renderer it names when it
    // starts is checked in Chromium).
    const explicit = await createBackend("webgl2", probes(false, true, "Apple M2"));
    expect(E.isLeft(explicit) && explicit.left.message).toMatch(/mode failed to start/);
    const sw = orThrow(
      await createBackend(
        "auto",
        probes(false, true, "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))"),
      ),
    );
    expect(sw.mode).toBe("webasm");
    expect(sw.report.fallbacks[1]).toBe(
      "webgl2: its renderer is software (ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero)))), slower than WebAssembly SIMD on the same cores",
    );
    await disposeBackend(sw);
  });

  it("isSoftwareRenderer knows SwiftShader and Mesa's CPU rasterizers, and no hardware name", () => {
    for (const r of [
      "Google SwiftShader",
      "llvmpipe (LLVM 15.0.6, 256 bits)",
      "softpipe",
      "Microsoft Basic Render Driver (Software)",
    ])
      expect(isSoftwareRenderer(r)).toBe(true);
    for (const r of [
      "ANGLE (NVIDIA, NVIDIA GeForce RTX 4090)",
      "Apple M2",
      "Mali-G78",
      "AMD Radeon Pro 5500M",
    ])
      expect(isSoftwareRenderer(r)).toBe(false);
  });

  it("auto on this platform reports a choice consistent with its probes", async () => {
    const b = orThrow(await createBackend("auto"));
    expect(b.report.requested).toBe("auto");
    expect(b.report.fallbacks.length).toBe(["webgpu", "webgl2", "webasm", "cpu"].indexOf(b.mode));
    await disposeBackend(b);
  });

  it("an unavailable explicit mode or an unknown request is a Left, never a substitute", async () => {
    const gpu = await createBackend("webgpu", probes(false, true));
    expect(E.isLeft(gpu) && gpu.left.message).toMatch(
      /nets backend: request .*unavailable: no WebGPU adapter/,
    );
    const wasm = await createBackend("webasm", probes(false, false));
    expect(E.isLeft(wasm) && wasm.left.field).toBe("request");
    const gl = await createBackend("webgl2");
    expect(E.isLeft(gl) && gl.left.message).toMatch(
      /unavailable: no WebGL2 context could be made .*Node has none/,
    );
    const bad = await createBackend("metal" as "cpu");
    expect(E.isLeft(bad) && bad.left.message).toMatch(/must be one of/);
  });
});

describe("conv2dKernels", () => {
  it("picks wasm-simd on webasm, GPU.js kernels on cpu and webgl2, and refuses webgpu with a reason", async () => {
    const wasm = orThrow(await createBackend("webasm"));
    const kw = orThrow(conv2dKernels(wasm));
    expect(kw.implementation).toBe("wasm-simd");
    expect(kw.reason).toMatch(/one lane at a time/);
    const cpu = orThrow(await createBackend("cpu"));
    expect(orThrow(conv2dKernels(cpu)).implementation).toBe("gpujs-cpu");
    const fakeGpu = conv2dKernels({ ...cpu, mode: "webgpu" });
    expect(E.isLeft(fakeGpu) && fakeGpu.left.message).toMatch(/asynchronous/);
    // webgl2 selects GPU.js kernels (compiled to GLSL by the instance; checked against cpu in Chromium,
    // test/browser/backends.test.ts).
    const gl = { ...cpu, mode: "webgl2" as const };
    expect(orThrow(conv2dKernels(gl)).implementation).toBe("gpujs-webgl2");
    expect(orThrow(linearKernels(gl)).implementation).toBe("gpujs-webgl2");
    kw.dispose();
    await disposeBackend(wasm);
    await disposeBackend(cpu);
  });
});
