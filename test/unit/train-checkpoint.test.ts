import { mkdir, mkdtemp, readdir, readFile, rm, truncate, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import type { NetKernels } from "../../src/nets/tape.js";
import { loadCheckpoint, saveCheckpoint } from "../../src/node/checkpoint.js";
import { trainSteps } from "../../src/train/loop.js";
import { checkTrainState, type TrainState } from "../../src/train/state.js";
import {
  config,
  dataset,
  initialState,
  loss,
  model,
  modelDescription,
  runTo,
  stateBits,
  trainKernels,
} from "../support/train-fixtures.js";

let kernels: NetKernels;
let root: string;
let saved: TrainState;
beforeAll(async () => {
  kernels = await trainKernels();
  root = await mkdtemp(join(tmpdir(), "scoreflow-checkpoint-"));
  saved = runTo(kernels, initialState(), 5);
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

let count = 0;
/** A fresh checkpoint directory holding the 5-step state. */
const freshCheckpoint = async (): Promise<string> => {
  const dir = join(root, `c${count++}`);
  orThrow(await saveCheckpoint(dir, { config, state: saved, model: modelDescription }));
  return dir;
};

/** The path state.json records for a file. */
const recorded = async (dir: string, role: string): Promise<string> =>
  join(dir, JSON.parse(await readFile(join(dir, "state.json"), "utf8")).files[role].path);

const leftMessage = async (dir: string): Promise<string> => {
  const r = await loadCheckpoint(dir);
  return E.isLeft(r) ? r.left.message : "Right";
};

describe("exact resume", () => {
  it("12 steps straight = 5 steps, save, load, 7 steps (bit-identical θ, EMA, Adam moments)", async () => {
    const straight = runTo(kernels, initialState(), 12);
    const dir = await freshCheckpoint();
    const loaded = orThrow(await loadCheckpoint(dir));
    expect(loaded.config).toEqual(config);
    expect(loaded.model).toEqual(modelDescription);
    expect(stateBits(loaded.state)).toEqual(stateBits(saved));
    expect(E.isRight(checkTrainState(model.network, loaded.state))).toBe(true);
    let resumed = loaded.state;
    for (const r of trainSteps(kernels, model, loss, loaded.config, loaded.state, dataset))
      resumed = orThrow(r).state;
    expect(resumed.step).toBe(12);
    expect(stateBits(resumed)).toEqual(stateBits(straight));
  });
});

describe("saveCheckpoint", () => {
  it("keeps one generation: state.json and the files it names", async () => {
    const dir = await freshCheckpoint();
    const later = runTo(kernels, saved, 6);
    orThrow(await saveCheckpoint(dir, { config, state: later, model: modelDescription }));
    const entries = (await readdir(dir)).sort();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toBe("state.json");
    expect(entries[1]).toMatch(/^step-00000006-[0-9a-f]{16}$/);
    expect((await readdir(join(dir, entries[1]))).sort()).toEqual([
      "ema.safetensors",
      "model.safetensors",
      "optimizer.safetensors",
    ]);
    expect(stateBits(orThrow(await loadCheckpoint(dir)).state)).toEqual(stateBits(later));
  });

  it("survives the remains of an interrupted save, and the next save clears them", async () => {
    const dir = await freshCheckpoint();
    // A save killed before its state.json landed: a partial generation directory.
    const stray = join(dir, "step-00000006-0123456789abcdef");
    await mkdir(stray);
    await writeFile(join(stray, "model.safetensors"), new Uint8Array(10));
    expect(stateBits(orThrow(await loadCheckpoint(dir)).state)).toEqual(stateBits(saved));
    // Saving the same state again rewrites identical bytes into the current generation: still loadable.
    orThrow(await saveCheckpoint(dir, { config, state: saved, model: modelDescription }));
    expect(await readdir(dir)).not.toContain("step-00000006-0123456789abcdef");
    expect(stateBits(orThrow(await loadCheckpoint(dir)).state)).toEqual(stateBits(saved));
  });

  it("gives a Left naming the directory it cannot create", async () => {
    const file = join(root, "a-file");
    await writeFile(file, "x");
    const r = await saveCheckpoint(join(file, "sub"), { config, state: saved, model: modelDescription });
    expect(E.isLeft(r) && r.left.message).toMatch(/^saveCheckpoint: .*a-file\/sub\/step-00000005-/);
  });
});

describe("loadCheckpoint refuses damaged checkpoints, naming the file", () => {
  it.each(["model", "ema", "optimizer"])("a corrupted %s file (one flipped byte)", async (role) => {
    const dir = await freshCheckpoint();
    const path = await recorded(dir, role);
    const bytes = await readFile(path);
    bytes[bytes.length - 3] ^= 0x40;
    await writeFile(path, bytes);
    expect(await leftMessage(dir)).toContain(
      `loadCheckpoint: ${path} must have the SHA-256 state.json records`,
    );
  });

  it("a truncated file", async () => {
    const dir = await freshCheckpoint();
    const path = await recorded(dir, "ema");
    await truncate(path, 100);
    expect(await leftMessage(dir)).toBe(
      `loadCheckpoint: ${path} must be 8088 bytes as state.json records (the file is truncated), got 100 bytes`,
    );
  });

  it("a missing file", async () => {
    const dir = await freshCheckpoint();
    const path = await recorded(dir, "optimizer");
    await rm(path);
    expect(await leftMessage(dir)).toContain(
      `loadCheckpoint: ${path} must be a readable file (named by state.json), got ENOENT`,
    );
  });

  it("a safetensors file whose recorded hash matches but whose content is not safetensors", async () => {
    const dir = await freshCheckpoint();
    const path = await recorded(dir, "model");
    const junk = new Uint8Array(16).fill(0xff);
    await writeFile(path, junk);
    const statePath = join(dir, "state.json");
    const json = JSON.parse(await readFile(statePath, "utf8"));
    const { createHash } = await import("node:crypto");
    json.files.model = {
      ...json.files.model,
      bytes: 16,
      sha256: createHash("sha256").update(junk).digest("hex"),
    };
    await writeFile(statePath, JSON.stringify(json));
    expect(await leftMessage(dir)).toContain(`loadCheckpoint: ${path} must be a valid safetensors file`);
  });

  it("a missing, truncated or malformed state.json", async () => {
    const dir = await freshCheckpoint();
    const statePath = join(dir, "state.json");
    const text = await readFile(statePath, "utf8");
    await writeFile(statePath, text.slice(0, text.length / 2));
    expect(await leftMessage(dir)).toContain(`loadCheckpoint: ${statePath} must be valid JSON`);
    const json = JSON.parse(text);
    const cases: ReadonlyArray<readonly [unknown, RegExp]> = [
      [{ ...json, format: "other" }, /format must be "scoreflow-checkpoint"/],
      [{ ...json, step: -1 }, /step must be an integer ≥ 0/],
      [{ ...json, dataOrder: { epoch: 0 } }, /dataOrder.offset must be an integer ≥ 0/],
      [
        {
          ...json,
          files: { ...json.files, ema: { ...json.files.ema, path: "../elsewhere/ema.safetensors" } },
        },
        /files.ema.path must be/,
      ],
      [{ ...json, config: { ...json.config, batchSize: 0 } }, /config.batchSize must be an integer ≥ 1/],
    ];
    for (const [content, pattern] of cases) {
      await writeFile(statePath, JSON.stringify(content));
      expect(await leftMessage(dir)).toMatch(pattern);
    }
    await rm(statePath);
    expect(await leftMessage(dir)).toContain(`loadCheckpoint: ${statePath} must be a readable file`);
  });
});
