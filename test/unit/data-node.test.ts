import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decode } from "fast-png";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { Tensor } from "../../src/core/tensor.js";
import { decodePng, encodePng } from "../../src/data/png.js";
import { loadMnist, loadPngDirectory, writeFileAtomic, writePng } from "../../src/node/datasets.js";
import { blankRaster } from "../../src/plot/raster.js";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scoreflow-data-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const image = (shape: [number, number, number], f: (p: number) => number): Tensor => ({
  shape,
  data: Float32Array.from({ length: shape[0] * shape[1] * shape[2] }, (_, p) => f(p) / 127.5 - 1),
});

describe("loadMnist", () => {
  it("loads the test split: 10 000 images 28 × 28 in [−1, 1], labels 0–9 with the known counts, the first a 7", async () => {
    const d = orThrow(await loadMnist("test"));
    expect(d.images.shape).toEqual([10_000, 1, 28, 28]);
    expect(d.labels.length).toBe(10_000);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const v of d.images.data) {
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    expect([lo, hi]).toEqual([-1, 1]);
    const counts = new Array<number>(10).fill(0);
    for (const l of d.labels) counts[l]++;
    expect(counts.reduce((a, b) => a + b, 0)).toBe(10_000);
    // The published class counts of the MNIST test set.
    expect(counts).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]);
    expect(d.labels[0]).toBe(7);
  });

  it("applies the options, and rejects an unknown split", async () => {
    const d = orThrow(await loadMnist("test", { pad: 2, downsample: 2 }));
    expect(d.images.shape).toEqual([10_000, 1, 18, 18]);
    const r = await loadMnist("validation" as "test");
    expect(E.isLeft(r) && r.left.field).toBe("split");
  });
});

describe("loadPngDirectory", () => {
  it("reads the *.png regular files sorted by name into one batch", async () => {
    const sub = join(dir, "ok");
    await mkdir(join(sub, "z.png"), { recursive: true });
    const imgs = [
      image([3, 2, 3], (p) => p),
      image([3, 2, 3], (p) => 200 - p),
      image([3, 2, 3], (p) => 7 * p),
    ];
    await writeFile(join(sub, "b.png"), orThrow(encodePng(imgs[1])));
    await writeFile(join(sub, "a.png"), orThrow(encodePng(imgs[0])));
    await writeFile(join(sub, "c.PNG"), orThrow(encodePng(imgs[2])));
    await writeFile(join(sub, "notes.txt"), "not an image");
    const d = orThrow(await loadPngDirectory(sub));
    expect(d.files).toEqual(["a.png", "b.png", "c.PNG"]);
    expect(d.images.shape).toEqual([3, 3, 2, 3]);
    expect(Array.from(d.images.data)).toEqual(imgs.flatMap((t) => Array.from(t.data)));
  });

  it("gives a Left for a missing or empty directory, a corrupt file and mixed sizes, naming the file", async () => {
    const missing = await loadPngDirectory(join(dir, "missing"));
    expect(E.isLeft(missing) && missing.left.field).toBe("dir");
    const empty = join(dir, "empty");
    await mkdir(empty);
    const none = await loadPngDirectory(empty);
    expect(E.isLeft(none) && none.left.rule).toContain("at least one");

    const corrupt = join(dir, "corrupt");
    await mkdir(corrupt);
    await writeFile(join(corrupt, "a.png"), orThrow(encodePng(image([1, 2, 2], (p) => p))));
    await writeFile(join(corrupt, "b.png"), Uint8Array.from([137, 80, 78, 71, 1, 2, 3]));
    const bad = await loadPngDirectory(corrupt);
    expect(E.isLeft(bad) && bad.left.field).toContain(join(corrupt, "b.png"));
    expect(E.isLeft(bad) && bad.left.message).toContain("b.png");

    const mixed = join(dir, "mixed");
    await mkdir(mixed);
    await writeFile(join(mixed, "a.png"), orThrow(encodePng(image([1, 2, 2], (p) => p))));
    await writeFile(join(mixed, "b.png"), orThrow(encodePng(image([1, 2, 3], (p) => p))));
    const r = await loadPngDirectory(mixed);
    expect(E.isLeft(r) && r.left.field).toBe("b.png");
  });
});

describe("writeFileAtomic and writePng", () => {
  it("writes and replaces a file, leaving no temporary file behind", async () => {
    const sub = join(dir, "atomic");
    await mkdir(sub);
    const path = join(sub, "out.bin");
    orThrow(await writeFileAtomic(path, Uint8Array.from([1, 2, 3])));
    expect(Array.from(await readFile(path))).toEqual([1, 2, 3]);
    orThrow(await writeFileAtomic(path, Uint8Array.from([9])));
    expect(Array.from(await readFile(path))).toEqual([9]);
    expect(await readdir(sub)).toEqual(["out.bin"]);
  });

  it("gives a Left, and leaves the old file intact, when the write fails", async () => {
    const r = await writeFileAtomic(join(dir, "no-such-dir", "x.bin"), Uint8Array.from([1]));
    expect(E.isLeft(r) && r.left.field).toBe("path");
    // A name of 250 bytes exists, but its temporary sibling's name exceeds the 255-byte limit: open fails.
    const sub = join(dir, "long");
    await mkdir(sub);
    const path = join(sub, "x".repeat(250));
    await writeFile(path, "old");
    const long = await writeFileAtomic(path, Uint8Array.from([1, 2]));
    expect(E.isLeft(long)).toBe(true);
    expect(await readFile(path, "utf8")).toBe("old");
    expect(await readdir(sub)).toEqual(["x".repeat(250)]);
  });

  it("writePng writes an RGB PNG of the raster", async () => {
    const path = join(dir, "plot.png");
    const raster = blankRaster(3, 2, [10, 20, 30]);
    orThrow(await writePng(path, raster));
    const png = decode(await readFile(path));
    expect([png.width, png.height, png.channels]).toEqual([3, 2, 3]);
    expect(Array.from(png.data)).toEqual(Array.from(raster.data));
    expect(orThrow(decodePng(await readFile(path))).shape).toEqual([3, 2, 3]);
  });
});
