/**
 * `scoreflow info`: the compute backend this machine runs (and why), the SDEs and sampler families the command
 * line knows, and with `--model` a checkpoint's network, parameters, training step and data.
 *
 * @module
 */
import { SAMPLER_FAMILIES, samplerFamilyInfo } from "../samplers/families.js";
import { noiseLevel } from "../sde/marginals.js";
import { SDE_NAMES, sdeByName } from "../train/description.js";
import { orFail } from "./failure.js";
import { loadModel, startCompute } from "./models.js";

/** The flags of `scoreflow info`. */
export interface InfoFlags {
  /** `--model`. */
  readonly model?: string;
  /** `--backend`. */
  readonly backend: string;
  /** `--threads`: threads for the webasm kernels. */
  readonly threads: number;
}

/** Runs `scoreflow info`. */
export const runInfo = async (flags: InfoFlags): Promise<void> => {
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const { backend, label, gpuPassedOver } = await startCompute(flags.backend, flags.threads, true);
  log(`backend: ${label} (requested ${backend.report.requested})`);
  if (gpuPassedOver !== undefined) log(`  network passes on webgpu: passed over, ${gpuPassedOver}`);
  for (const f of backend.report.fallbacks) log(`  skipped ${f}`);
  log("\nSDEs (--sde):  name        T        σ/s at tMin → T");
  for (const name of SDE_NAMES) {
    const sde = orFail(sdeByName(name));
    const range = `${noiseLevel(sde, sde.tMin).toPrecision(3)} → ${noiseLevel(sde, sde.tMax).toPrecision(3)}`;
    log(`               ${name.padEnd(11)} ${String(sde.tMax).padEnd(8)} ${range}`);
  }
  log("\nsamplers (--sampler):");
  for (const f of SAMPLER_FAMILIES) {
    const i = samplerFamilyInfo[f];
    log(`  ${f.padEnd(12)} ${i.title}; steps = ${i.steps}, default ${i.defaultSteps || "adaptive"}`);
  }
  if (flags.model === undefined) return;
  const m = await loadModel(flags.model);
  const count = m.model.network.parameters.reduce((a, p) => a + p.shape.reduce((x, y) => x * y, 1), 0);
  log(`\nmodel ${flags.model}: ${m.model.network.name}, ${count.toLocaleString("en")} parameters`);
  log(
    `  predicts: ${m.model.kind === "denoiser" ? `D(x; σ), ${m.model.preconditioning.kind} preconditioning` : m.model.parameterization}`,
  );
  log(`  sde: ${m.description.sde}; data: ${JSON.stringify(m.description.data)}`);
  const p = m.provenance;
  log(`  trained ${p.step} of ${p.steps} steps, batch ${p.batchSize}, seed ${p.seed}`);
  if (p.command !== undefined) log(`  by: ${p.command}`);
};
