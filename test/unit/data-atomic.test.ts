import * as fs from "node:fs/promises";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { writeFileAtomic } from "../../src/node/datasets.js";

// Every fs/promises function stays real; the tests make `rename` or a handle's write fail once.
vi.mock("node:fs/promises", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:fs/promises")>();
  return { ...actual, rename: vi.fn(actual.rename), open: vi.fn(actual.open) };
});

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "scoreflow-atomic-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("writeFileAtomic under failures", () => {
  it("a failed rename leaves the old file intact and removes the temporary file", async () => {
    const path = join(dir, "a.bin");
    await writeFile(path, "old");
    vi.mocked(fs.rename).mockRejectedValueOnce(new Error("EIO: simulated rename failure"));
    const r = await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect(E.isLeft(r) && r.left.message).toContain("simulated rename failure");
    expect(await readFile(path, "utf8")).toBe("old");
    expect(await readdir(dir)).toEqual(["a.bin"]);
  });

  it("a write that fails halfway leaves the old file intact and no partial file anywhere", async () => {
    const path = join(dir, "b.bin");
    await writeFile(path, "old");
    const realOpen = vi.mocked(fs.open).getMockImplementation()!;
    vi.mocked(fs.open).mockImplementationOnce(async (...args: Parameters<typeof fs.open>) => {
      const handle = await realOpen(...args);
      return Object.assign(handle, {
        writeFile: async (bytes: Uint8Array) => {
          await handle.write(bytes.subarray(0, bytes.length >> 1));
          throw new Error("ENOSPC: simulated full disk");
        },
      });
    });
    const r = await writeFileAtomic(path, new Uint8Array(1000).fill(7));
    expect(E.isLeft(r) && r.left.message).toContain("simulated full disk");
    expect(await readFile(path, "utf8")).toBe("old");
    expect((await readdir(dir)).sort()).toEqual(["a.bin", "b.bin"]);
  });
});
