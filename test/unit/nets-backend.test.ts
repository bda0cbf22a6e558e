import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { type BackendProbes, conv2dKernels, createBackend, disposeBackend } from "../../src/nets/index.js";

const probes = (webgpu: boolean, webasm: boolean): BackendProbes => ({
  webgpu: async () => webgpu,
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
      expect.stringMatching(/^webgpu: an adapter answered, but the network ops/),
    ]);
    await disposeBackend(a);
  });

  it("auto falls back webgpu → webasm → cpu and says why at each step", async () => {
    const a = orThrow(await createBackend("auto", probes(false, true)));
    expect(a.mode).toBe("webasm");
    expect(a.report.fallbacks).toHaveLength(1);
    expect(a.report.fallbacks[0]).toMatch(/^webgpu: no WebGPU adapter answered/);
    await disposeBackend(a);
    const c = orThrow(await createBackend("auto", probes(false, false)));
    expect(c.mode).toBe("cpu");
    expect(c.report.fallbacks.map((f) => f.split(":")[0])).toEqual(["webgpu", "webasm"]);
    await disposeBackend(c);
  });

  it("auto on this platform reports a choice consistent with its probes", async () => {
    const b = orThrow(await createBackend("auto"));
    expect(b.report.requested).toBe("auto");
    expect(b.report.fallbacks.length).toBe(["webgpu", "webasm", "cpu"].indexOf(b.mode));
    await disposeBackend(b);
  });

  it("an unavailable explicit mode or an unknown request is a Left, never a substitute", async () => {
    const gpu = await createBackend("webgpu", probes(false, true));
    expect(E.isLeft(gpu) && gpu.left.message).toMatch(
      /nets backend: request .*unavailable: no WebGPU adapter/,
    );
    const wasm = await createBackend("webasm", probes(false, false));
    expect(E.isLeft(wasm) && wasm.left.field).toBe("request");
    const bad = await createBackend("metal" as "cpu");
    expect(E.isLeft(bad) && bad.left.message).toMatch(/must be one of/);
  });
});

describe("conv2dKernels", () => {
  it("picks wasm-simd on webasm, GPU.js kernels on cpu, and refuses webgpu with a reason", async () => {
    const wasm = orThrow(await createBackend("webasm"));
    const kw = orThrow(conv2dKernels(wasm));
    expect(kw.implementation).toBe("wasm-simd");
    expect(kw.reason).toMatch(/one lane at a time/);
    const cpu = orThrow(await createBackend("cpu"));
    expect(orThrow(conv2dKernels(cpu)).implementation).toBe("gpujs-cpu");
    const fakeGpu = conv2dKernels({ ...cpu, mode: "webgpu" });
    expect(E.isLeft(fakeGpu) && fakeGpu.left.message).toMatch(/asynchronous/);
    kw.dispose();
    await disposeBackend(wasm);
    await disposeBackend(cpu);
  });
});
