/**
 * A trained model for sampling only (Node only): one safetensors file of weights (the EMA weights of a run) and
 * a `model.json` holding the caller's model description, where the weights came from, and the size and SHA-256 of
 * the weights file. A quarter of a checkpoint's size (no raw weights, no optimizer moments), which is what a
 * package ships. `model.json` is written after the weights, both atomically, so a killed export never leaves a
 * `model.json` naming missing or partial weights; {@link loadModelFile} verifies the hash.
 *
 * Layout: `dir/model.json`, `dir/weights.safetensors`.
 *
 * Sources: huggingface/safetensors (the tensor format); FIPS 180-4 (SHA-256, via `node:crypto`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { isRecord, messageOf } from "../core/guards.js";
import type { Tensor } from "../core/tensor.js";
import { readSafetensors, writeSafetensors } from "../nets/io/safetensors.js";
import type { JsonValue } from "../train/config.js";
import { writeFileAtomic } from "./datasets.js";

/**
 * A model for sampling: weights, the description to rebuild its network, and its provenance.
 *
 * @category I/O
 */
export interface ModelFile {
  /** The caller's model description (network config, what it predicts, …), stored verbatim. */
  readonly model: JsonValue;
  /** Where the weights came from (run config, step, the command that trained it), stored verbatim. */
  readonly provenance: JsonValue;
  /** The weights by state-dict name. */
  readonly weights: ReadonlyMap<string, Tensor>;
}

const FORMAT = "scoreflow-model";
const WEIGHTS = "weights.safetensors";
const MANIFEST = "model.json";

const sha256 = (bytes: Uint8Array): string => createHash("sha256").update(bytes).digest("hex");

/**
 * Writes `dir/weights.safetensors`, then `dir/model.json` (with the weights' size and SHA-256), each atomically.
 * Creates `dir` if needed.
 *
 * @category I/O
 */
export const saveModelFile = async (
  dir: string,
  file: ModelFile,
): Promise<E.Either<ScoreflowError, void>> => {
  const bytes = writeSafetensors(file.weights);
  if (E.isLeft(bytes)) return bytes;
  try {
    await mkdir(dir, { recursive: true });
  } catch (e) {
    return E.left(scoreflowError("saveModelFile", dir, dir, "must be a creatable directory", messageOf(e)));
  }
  const written = await writeFileAtomic(join(dir, WEIGHTS), bytes.right);
  if (E.isLeft(written)) return written;
  const manifest = {
    format: FORMAT,
    version: 1,
    weights: { path: WEIGHTS, bytes: bytes.right.length, sha256: sha256(bytes.right) },
    model: file.model,
    provenance: file.provenance,
  };
  return writeFileAtomic(
    join(dir, MANIFEST),
    new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`),
  );
};

/**
 * Reads a model written by {@link saveModelFile}. A missing or unparsable `model.json`, a weights file of the wrong
 * size or hash, or an unreadable safetensors file is a Left naming the file.
 *
 * @category I/O
 */
export const loadModelFile = async (dir: string): Promise<E.Either<ScoreflowError, ModelFile>> => {
  const manifestPath = join(dir, MANIFEST);
  let manifest: unknown;
  try {
    manifest = JSON.parse(await readFile(manifestPath, "utf8"));
  } catch (e) {
    return E.left(
      scoreflowError(
        "loadModelFile",
        manifestPath,
        manifestPath,
        "must be a readable JSON file",
        messageOf(e),
      ),
    );
  }
  if (!isRecord(manifest) || manifest.format !== FORMAT || !isRecord(manifest.weights))
    return E.left(
      scoreflowError("loadModelFile", manifestPath, manifestPath, `must be a ${FORMAT} manifest`),
    );
  const { bytes: size, sha256: hash } = manifest.weights;
  const weightsPath = join(dir, WEIGHTS);
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(await readFile(weightsPath));
  } catch (e) {
    return E.left(
      scoreflowError("loadModelFile", weightsPath, weightsPath, "must be a readable file", messageOf(e)),
    );
  }
  if (bytes.length !== size || sha256(bytes) !== hash)
    return E.left(
      scoreflowError(
        "loadModelFile",
        weightsPath,
        weightsPath,
        `must match the size and SHA-256 in ${MANIFEST}`,
      ),
    );
  const weights = readSafetensors(bytes);
  if (E.isLeft(weights)) return weights;
  return E.right({
    model: (manifest.model ?? null) as JsonValue,
    provenance: (manifest.provenance ?? null) as JsonValue,
    weights: weights.right.tensors,
  });
};
