import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { rngKey, uniforms } from "../../src/core/rng.js";
import type { NetKernels } from "../../src/nets/tape.js";
import { loadCheckpoint } from "../../src/node/checkpoint.js";
import { trainSteps } from "../../src/train/loop.js";
import {
  dataset,
  initialState,
  loss,
  model,
  runTo,
  stateBits,
  trainKernels,
} from "../support/train-fixtures.js";

const CHILD = fileURLToPath(new URL("../support/train-kill-child.ts", import.meta.url));
/** Steps of the child's run (a few ms each, with its checkpoint). */
const TOTAL = 200;

let kernels: NetKernels;
let root: string;
beforeAll(async () => {
  kernels = await trainKernels();
  root = await mkdtemp(join(tmpdir(), "scoreflow-kill-"));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/**
 * Resolves once the child has printed `saved <after>`; rejects if it exits first. Its stdout arrives
 * asynchronously, so by then the child is already somewhere in the following steps and saves.
 */
const saved = (child: ChildProcess, after: number, stderr: () => string): Promise<void> =>
  new Promise((resolve, reject) => {
    let text = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes(`saved ${after}\n`)) resolve();
    });
    child.on("exit", (code) => reject(new Error(`child exited (${code}) before save ${after}: ${stderr()}`)));
  });

const exited = (child: ChildProcess): Promise<NodeJS.Signals | null> =>
  new Promise((resolve) => child.on("exit", (_code, signal) => resolve(signal)));

describe("checkpoint kill safety", () => {
  it("a training process SIGKILLed at a random moment after its first checkpoint resumes to the straight run", async () => {
    const straight = stateBits(runTo(kernels, initialState(), TOTAL));
    // Kill after save j ∈ [1, 150] plus a delay in [0, 10) ms (one step and save take a few ms), drawn from a
    // fixed key; the child's timing varies anyway, so the moment within a step or a save is random.
    const u = uniforms(orThrow(rngKey(2024)), 4);
    for (let i = 0; i < 2; i++) {
      const after = 1 + Math.floor(150 * u[2 * i]);
      const delay = 10 * u[2 * i + 1];
      const dir = join(root, `run${i}`);
      let stderr = "";
      const child = spawn(process.execPath, ["--import", "tsx", CHILD, dir, String(TOTAL)], {
        stdio: ["ignore", "pipe", "pipe"],
      });
      child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      const exit = exited(child);
      await saved(child, after, () => stderr);
      await new Promise((resolve) => setTimeout(resolve, delay));
      child.kill("SIGKILL");
      expect(await exit, `the child finished before the kill at save ${after} + ${delay} ms`).toBe("SIGKILL");

      const loaded = orThrow(await loadCheckpoint(dir));
      expect(loaded.state.step).toBeGreaterThanOrEqual(1);
      expect(loaded.state.step).toBeLessThanOrEqual(TOTAL);
      let resumed = loaded.state;
      for (const r of trainSteps(kernels, model, loss, loaded.config, loaded.state, dataset))
        resumed = orThrow(r).state;
      expect(
        stateBits(resumed),
        `killed at save ${after} + ${delay} ms, resumed from step ${loaded.state.step}`,
      ).toEqual(straight);
    }
  });
});
