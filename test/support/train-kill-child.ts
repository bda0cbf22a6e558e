/**
 * The child process of the checkpoint kill test: trains the fixture model from scratch for the number of steps
 * given as the second argument, saving a checkpoint into the directory given as the first argument after every step and printing
 * `saved <step>` once each save has returned. The parent SIGKILLs it at some moment after the first save.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { saveCheckpoint } from "../../src/node/checkpoint.js";
import { trainSteps } from "../../src/train/loop.js";
import {
  config,
  dataset,
  initialState,
  loss,
  model,
  modelDescription,
  trainKernels,
} from "./train-fixtures.js";

const [dir, steps] = process.argv.slice(2);
const run = { ...config, steps: Number(steps) };
const kernels = await trainKernels();
for (const result of trainSteps(kernels, model, loss, run, initialState(), dataset)) {
  if (E.isLeft(result)) throw new Error(result.left.message);
  const saved = await saveCheckpoint(dir, {
    config: run,
    state: result.right.state,
    model: modelDescription,
  });
  if (E.isLeft(saved)) throw new Error(saved.left.message);
  process.stdout.write(`saved ${result.right.state.step}\n`);
}
process.exit(0);
