/**
 * `scoreflow export`: a checkpoint's EMA weights and model description as a sampling-only model directory
 * (`model.json` + `weights.safetensors`, a quarter of the checkpoint), the form a package ships.
 *
 * @module
 */
import { rm } from "node:fs/promises";
import { saveModelFile } from "../node/model-file.js";
import { cliFailure, orFail } from "./failure.js";
import { exists, loadModel } from "./models.js";

/** The flags of `scoreflow export`. */
export interface ExportFlags {
  /** `--model`: a checkpoint directory. */
  readonly model: string;
  /** `--out`: the model directory to write. */
  readonly out: string;
  /** `--command`: how the checkpoint was trained, recorded in model.json. */
  readonly command?: string;
  /** `--force`. */
  readonly force: boolean;
}

/** Runs `scoreflow export`. */
export const runExport = async (flags: ExportFlags): Promise<void> => {
  if (await exists(flags.out)) {
    if (!flags.force) throw cliFailure(`${flags.out} already exists; add --force to replace it`);
    await rm(flags.out, { recursive: true, force: true });
  }
  const loaded = await loadModel(flags.model);
  const provenance = {
    ...loaded.provenance,
    ...(flags.command === undefined ? {} : { command: flags.command }),
  };
  orFail(
    await saveModelFile(flags.out, {
      model: loaded.description as never,
      provenance: provenance as never,
      weights: loaded.ema,
    }),
  );
  process.stdout.write(
    `exported the EMA weights of ${flags.model} (step ${provenance.step}) to ${flags.out}\n`,
  );
};
