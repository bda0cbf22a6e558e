#!/usr/bin/env node
/**
 * The `scoreflow` command: demo, train, sample, likelihood, export, info. Flags are parsed and validated here; a bad flag,
 * value or file ends the command with one sentence and exit code 2 (see `failure.ts`).
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import type { BackendRequest } from "../nets/backend.js";
import { runDemo } from "./demo.js";
import { runExport } from "./export.js";
import { runCommand, USAGE_EXIT_CODE } from "./failure.js";
import { runInfo } from "./info.js";
import { runLikelihood } from "./likelihood.js";
import { runSample } from "./sample.js";
import { runTrain } from "./train.js";

/** An integer ≥ min, for commander's argument parsers. */
const integer =
  (min: number) =>
  (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}.`);
    return n;
  };

/** A finite number > 0. */
const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError("must be a number > 0.");
  return n;
};

const backendOption = () =>
  new Option("--backend <backend>", "compute backend (webgpu: Dawn's WebGPU, for sample, train and info)")
    .choices(["auto", "webasm", "cpu", "webgpu"])
    .default("auto");

const threadsOption = () =>
  new Option("--threads <n>", "threads for the webasm kernels (results do not depend on it)")
    .argParser(integer(1))
    .default(availableParallelism(), "every core");

const program = new Command()
  .name("scoreflow")
  .description("Diffusion models from one SDE record: train, sample, measure.")
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({ writeErr: (s) => process.stderr.write(s) });

program
  .command("demo")
  .description("train an MLP on a 2-D toy, sample it with every sampler family, write pictures and a report")
  .option("--toy <name>", "checkerboard, swissRoll, twoMoons, eightGaussians or pinwheel", "checkerboard")
  .option("--out <dir>", "output directory", "out/demo")
  .option("--seed <n>", "seed of data, training and sampling", integer(0), 0)
  .option("--quick", "a reduced run (about 20 s)", false)
  .option("--force", "replace the output directory if it exists", false)
  .addOption(backendOption())
  .addOption(threadsOption())
  .action((o) =>
    runCommand(() =>
      runDemo({
        out: o.out,
        toy: o.toy,
        seed: o.seed,
        quick: o.quick,
        force: o.force,
        backend: o.backend as BackendRequest,
        threads: o.threads,
      }),
    ),
  );

program
  .command("train")
  .description("train a score model on a 2-D toy, MNIST or a directory of PNG images")
  .requiredOption(
    "--data <data>",
    "a toy name, mnist (32×32), mnist16 (16×16), or a directory of PNG images of one size",
  )
  .option("--model <kind>", "mlp (2-D data) or unet (images)")
  .option("--sde <name>", "vp, vp-cosine, subvp, ve or edm", "vp")
  .option("--loss <loss>", "edm, simple, sigma2, likelihood or ddpm", "edm")
  .option("--parameterization <p>", "eps, x0, v or score (time models; ignored by the edm loss)", "eps")
  .option("--steps <n>", "optimizer steps", integer(1), 2000)
  .option("--batch <n>", "minibatch size", integer(1))
  .option("--lr <rate>", "peak learning rate", positive)
  .option("--seed <n>", "seed", integer(0), 0)
  .option("--checkpoint-every <n>", "steps between checkpoints (default 1000)", integer(1))
  .option("--config <file>", "a JSON file of train settings (flags override it)")
  .option("--out <dir>", "checkpoint directory", "out/train")
  .option("--resume", "continue the run in --out from its last checkpoint", false)
  .option("--force", "replace an existing checkpoint directory", false)
  .addOption(backendOption())
  .addOption(threadsOption())
  .action((o) => runCommand(() => runTrain(o)));

program
  .command("sample")
  .description("draw samples from a trained model and write a PNG (a grid of images or a 2-D scatter plot)")
  .requiredOption("--model <dir>", "a checkpoint directory, or mnist for the shipped MNIST model")
  .option("--sampler <name>", "ddpm, ddim, reverse-sde, pc, pf-heun, pf-rk45, edm or dpmpp-2m", "edm")
  .option("--steps <n>", "sampler steps (default: the family's own)", integer(1))
  .option("--n <n>", "number of samples", integer(1), 64)
  .option("--seed <n>", "seed", integer(0), 0)
  .option("--out <file>", "output PNG", "out/samples.png")
  .option("--force", "replace the output file if it exists", false)
  .addOption(backendOption())
  .addOption(threadsOption())
  .action((o) => runCommand(() => runSample(o)));

program
  .command("likelihood")
  .description("exact log-likelihood of held-out data under a 2-D model's probability-flow ODE")
  .requiredOption("--model <dir>", "a checkpoint directory of a 2-D model")
  .option("--n <n>", "number of held-out points", integer(1), 200)
  .option("--seed <n>", "seed", integer(0), 0)
  .addOption(backendOption())
  .addOption(threadsOption())
  .action((o) => runCommand(() => runLikelihood(o)));

program
  .command("export")
  .description("write a checkpoint's EMA weights as a sampling-only model directory (model.json + weights)")
  .requiredOption("--model <dir>", "a checkpoint directory")
  .requiredOption("--out <dir>", "the model directory to write")
  .option("--command <text>", "how the checkpoint was trained, recorded in model.json")
  .option("--force", "replace the output directory if it exists", false)
  .action((o) => runCommand(() => runExport(o)));

program
  .command("info")
  .description("the backend this machine runs, the SDEs and samplers, and a checkpoint's model if given")
  .option("--model <dir>", "a checkpoint directory")
  .addOption(backendOption())
  .addOption(threadsOption())
  .action((o) => runCommand(() => runInfo(o)));

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (!(e instanceof CommanderError)) throw e;
  // commander has printed its one-line message (and the help for usage errors); --help and --version exit 0.
  process.exitCode = e.exitCode === 0 ? 0 : USAGE_EXIT_CODE;
}
