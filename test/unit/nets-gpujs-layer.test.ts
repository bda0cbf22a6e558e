/**
 * The GPU.js layer driver's kernel cache (src/nets/kernels/gpujs-layer.ts): one compiled set per geometry, at
 * most MAX_GEOMETRIES of them, the least recently used destroyed first. A stand-in GPU.js instance records
 * every kernel it compiles and destroys.
 */
import type { GPU } from "gpu.js";
import { describe, expect, it } from "vitest";
import { kernelCache } from "../../src/nets/kernel-cache.js";
import { gpujsLayer, MAX_GEOMETRIES } from "../../src/nets/kernels/gpujs-layer.js";

/** A GPU.js stand-in: kernels answer zeros of their output length; `live` lists the undestroyed ones by rows. */
const standIn = () => {
  const live = new Map<number, number>();
  const gpu = {
    createKernel: (_fn: unknown, settings: { output: number[]; constants: { rows: number } }) => {
      const rows = settings.constants.rows;
      live.set(rows, (live.get(rows) ?? 0) + 1);
      return Object.assign(() => new Float32Array(settings.output[0]), {
        destroy: () => live.set(rows, (live.get(rows) ?? 0) - 1),
      });
    },
  } as unknown as GPU;
  return { gpu, live };
};

const layer = (gpu: GPU) =>
  gpujsLayer<number, { rows: number }>(gpu, {
    kernels: { forward: () => 0, dx: () => 0, dw: () => 0, db: () => 0 },
    constants: (rows) => ({ rows }),
    lengths: (rows) => ({ forward: rows, dx: rows, dw: 1, db: 1 }),
  });

const forward = (l: ReturnType<typeof layer>, rows: number) =>
  l.forward(rows, new Float32Array(rows), new Float32Array(1), undefined);

describe("gpujsLayer's kernel cache", () => {
  it("keeps the most recently used geometries and destroys the least recently used one's four kernels", () => {
    const { gpu, live } = standIn();
    const l = layer(gpu);
    for (let rows = 1; rows <= MAX_GEOMETRIES; rows++) expect(forward(l, rows)).toHaveLength(rows);
    expect([...live.values()].every((k) => k === 4)).toBe(true);
    forward(l, 1); // geometry 1 is now the most recently used, so 2 goes first
    forward(l, MAX_GEOMETRIES + 1);
    expect(live.get(1)).toBe(4);
    expect(live.get(2)).toBe(0);
    expect([...live.values()].filter((k) => k === 4)).toHaveLength(MAX_GEOMETRIES);
    forward(l, 2); // recompiled on use
    expect(live.get(2)).toBe(4);
    expect(live.get(3)).toBe(0);
    l.dispose();
    expect([...live.values()].every((k) => k === 0)).toBe(true);
  });
});

describe("kernelCache", () => {
  it("compiles once per key, evicts the least recently used beyond its capacity, and destroys on clear", () => {
    const destroyed: string[] = [];
    let compiled = 0;
    const cache = kernelCache<string>(2, (k) => destroyed.push(k));
    const get = (key: string) =>
      cache.get(key, () => {
        compiled++;
        return `kernel ${key}`;
      });
    expect([get("a"), get("b"), get("a")]).toEqual(["kernel a", "kernel b", "kernel a"]);
    expect(compiled).toBe(2);
    get("c"); // b is the least recently used
    expect(destroyed).toEqual(["kernel b"]);
    expect(cache.size()).toBe(2);
    cache.clear();
    expect(destroyed.sort()).toEqual(["kernel a", "kernel b", "kernel c"]);
    expect(cache.size()).toBe(0);
  });
});
