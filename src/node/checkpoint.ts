/**
 * Training checkpoints on disk (Node only): the parameters, their EMA and Adam's moments as safetensors files,
 * and a `state.json` holding everything else a resumed run needs (the config with its seed, the step, the data
 * order position, Adam's step count, the caller's model description) together with the size and SHA-256 of each
 * safetensors file.
 *
 * Layout of a checkpoint directory `dir`:
 *
 *   dir/state.json                              names the current generation and its files' hashes
 *   dir/step-00000012-<16 hex>/model.safetensors       θ
 *   dir/step-00000012-<16 hex>/ema.safetensors         EMA of θ
 *   dir/step-00000012-<16 hex>/optimizer.safetensors   Adam's m and v, as `m.<name>` and `v.<name>`
 *
 * Kill safety. A save never touches the files the current `state.json` names: it writes the new generation into
 * a directory of its own (named after the step and a hash of its contents, so a different state never lands in
 * the current generation's directory, and an identical one only rewrites identical bytes), each file atomically
 * (temporary file, fsync, rename) and the directory fsynced; only then does it replace `state.json` atomically,
 * fsync `dir`, and delete the other generations. A process killed at any moment therefore leaves a `state.json`
 * that names a complete generation: the previous one until the new `state.json` lands, the new one after. What
 * a kill can leave behind (a partial generation directory, a temporary file) is never named by `state.json`;
 * the next successful save deletes stray generation directories. {@link loadCheckpoint} still verifies every
 * file's size and SHA-256, so a file damaged afterwards is a Left naming it, never a mixed or corrupt state.
 *
 * Sources: huggingface/safetensors (the tensor format); FIPS 180-4 (SHA-256, via `node:crypto`); POSIX rename(2)
 * (atomic replacement).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { mkdir, open, readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { pipe } from "fp-ts/lib/function.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { isRecord, messageOf } from "../core/guards.js";
import type { Tensor } from "../core/tensor.js";
import { checkAll, isNonNegativeInteger } from "../core/validate.js";
import { readSafetensors, writeSafetensors } from "../nets/io/safetensors.js";
import type { Parameters } from "../nets/network.js";
import { type JsonValue, type TrainConfig, trainConfigFromJson, trainConfigToJson } from "../train/config.js";
import type { DataOrderState } from "../train/data-order.js";
import type { TrainState } from "../train/state.js";
import { writeFileAtomic } from "./datasets.js";

/**
 * Everything needed to resume a run: its configuration, its state, and the caller's description of the model
 * (e.g. the network config and preconditioning, as JSON) to rebuild the network and check the state against it
 * with `checkTrainState`.
 *
 * @category I/O
 */
export interface Checkpoint {
  /** The run's configuration (its seed included). */
  readonly config: TrainConfig;
  /** The state after `state.step` steps. */
  readonly state: TrainState;
  /** The model description, stored verbatim in `state.json`. */
  readonly model: JsonValue;
}

/** The `format` field of every `state.json`. */
const FORMAT = "scoreflow-checkpoint";
/** The layout version this module writes and reads. */
const VERSION = 1;
const STATE_FILE = "state.json";
const FILES = ["model", "ema", "optimizer"] as const;
type FileRole = (typeof FILES)[number];
/** A generation directory: `step-` and the zero-padded step, `-` and 16 hex digits of the contents' hash. */
const GENERATION = /^step-\d{8,}-[0-9a-f]{16}$/;
/** A file path as `state.json` records it: inside a generation directory of `dir`, nowhere else. */
const FILE_PATH = /^step-\d{8,}-[0-9a-f]{16}\/(model|ema|optimizer)\.safetensors$/;

const sha256 = (bytes: Uint8Array | string): string => createHash("sha256").update(bytes).digest("hex");

/** fsync of a directory, so that the renames into it survive a power loss; best effort (Windows cannot). */
const syncDirectory = async (path: string): Promise<void> => {
  try {
    const handle = await open(path, "r");
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Durability beyond a process kill only; atomicity does not depend on it.
  }
};

/** A file system call, its failure a Left naming `path`. */
const attempt = async <A>(
  context: string,
  path: string,
  rule: string,
  run: () => Promise<A>,
): Promise<E.Either<ScoreflowError, A>> => {
  try {
    return E.right(await run());
  } catch (e) {
    return E.left(scoreflowError(context, path, path, rule, messageOf(e)));
  }
};

/** Adam's moments as one map: `m.<name>` and `v.<name>`. */
const momentTensors = (state: TrainState): Map<string, Tensor> =>
  new Map([
    ...[...state.optimizer.m].map(([name, t]) => [`m.${name}`, t] as const),
    ...[...state.optimizer.v].map(([name, t]) => [`v.${name}`, t] as const),
  ]);

/**
 * Saves a checkpoint into `dir` (created if needed) as laid out in the module notes: the three safetensors
 * files of a new generation, then `state.json`, then the removal of older generations. Resolves to a Left naming
 * the file that could not be written (the previous checkpoint, if any, is then still intact and current).
 *
 * @category I/O
 */
export const saveCheckpoint = async (
  dir: string,
  checkpoint: Checkpoint,
): Promise<E.Either<ScoreflowError, void>> => {
  const context = "saveCheckpoint";
  const { state } = checkpoint;
  const encoded = pipe(
    E.Do,
    E.bind("model", () => writeSafetensors(state.parameters)),
    E.bind("ema", () => writeSafetensors(state.ema)),
    E.bind("optimizer", () => writeSafetensors(momentTensors(state))),
  );
  if (E.isLeft(encoded)) return encoded;
  const bytes: Readonly<Record<FileRole, Uint8Array>> = encoded.right;
  const hashes = Object.fromEntries(FILES.map((role) => [role, sha256(bytes[role])])) as Record<
    FileRole,
    string
  >;
  const generation = `step-${String(state.step).padStart(8, "0")}-${sha256(FILES.map((r) => hashes[r]).join("")).slice(0, 16)}`;
  const made = await attempt(context, join(dir, generation), "must be a directory that can be created", () =>
    mkdir(join(dir, generation), { recursive: true }),
  );
  if (E.isLeft(made)) return made;
  for (const role of FILES) {
    const written = await writeFileAtomic(join(dir, generation, `${role}.safetensors`), bytes[role]);
    if (E.isLeft(written)) return written;
  }
  await syncDirectory(join(dir, generation));
  const json = {
    format: FORMAT,
    version: VERSION,
    step: state.step,
    optimizerStep: state.optimizer.step,
    dataOrder: { epoch: state.dataOrder.epoch, offset: state.dataOrder.offset },
    config: trainConfigToJson(checkpoint.config),
    model: checkpoint.model,
    files: Object.fromEntries(
      FILES.map((role) => [
        role,
        { path: `${generation}/${role}.safetensors`, bytes: bytes[role].length, sha256: hashes[role] },
      ]),
    ),
  };
  const landed = await writeFileAtomic(
    join(dir, STATE_FILE),
    new TextEncoder().encode(`${JSON.stringify(json, null, 2)}\n`),
  );
  if (E.isLeft(landed)) return landed;
  await syncDirectory(dir);
  const entries = await attempt(context, dir, "must be a readable directory", () => readdir(dir));
  if (E.isLeft(entries)) return entries;
  for (const entry of entries.right.filter((name) => GENERATION.test(name) && name !== generation)) {
    const removed = await attempt(context, join(dir, entry), "must be removable (an old generation)", () =>
      rm(join(dir, entry), { recursive: true, force: true }),
    );
    if (E.isLeft(removed)) return removed;
  }
  return E.right(undefined);
};

/** What `state.json` records of one file. */
interface FileEntry {
  /** Path relative to the checkpoint directory. */
  readonly path: string;
  /** Size in bytes. */
  readonly bytes: number;
  /** SHA-256, 64 lowercase hex digits. */
  readonly sha256: string;
}

/** The fields of `state.json` besides the config. */
interface StateJson {
  /** Training steps taken. */
  readonly step: number;
  /** Adam's step count. */
  readonly optimizerStep: number;
  /** The data order position. */
  readonly dataOrder: DataOrderState;
  /** The caller's model description. */
  readonly model: JsonValue;
  /** The three safetensors files. */
  readonly files: Readonly<Record<FileRole, FileEntry>>;
}

/** Checks the shape of a parsed `state.json` (the config is read by `trainConfigFromJson`). */
const parseStateJson = (path: string, json: unknown): E.Either<ScoreflowError, StateJson> => {
  const context = `loadCheckpoint: ${path}`;
  const fail = (field: string, value: unknown, rule: string) =>
    E.left(scoreflowError(context, field, value, rule));
  if (!isRecord(json)) return fail("state", json, "must be a JSON object");
  if (json.format !== FORMAT) return fail("format", json.format, `must be ${JSON.stringify(FORMAT)}`);
  if (json.version !== VERSION) return fail("version", json.version, `must be ${VERSION}`);
  if (!("model" in json)) return fail("model", undefined, "must be present (the model description)");
  const order = json.dataOrder;
  if (!isRecord(order)) return fail("dataOrder", order, "must be an object { epoch, offset }");
  const numbers = checkAll(context, [
    ["step", json.step as number, isNonNegativeInteger],
    ["optimizerStep", json.optimizerStep as number, isNonNegativeInteger],
    ["dataOrder.epoch", order.epoch as number, isNonNegativeInteger],
    ["dataOrder.offset", order.offset as number, isNonNegativeInteger],
  ]);
  if (E.isLeft(numbers)) return numbers;
  const files = json.files;
  if (!isRecord(files)) return fail("files", files, "must be an object");
  for (const role of FILES) {
    const f = files[role];
    if (!isRecord(f)) return fail(`files.${role}`, f, "must be an object { path, bytes, sha256 }");
    if (typeof f.path !== "string" || !FILE_PATH.test(f.path) || !f.path.endsWith(`/${role}.safetensors`))
      return fail(`files.${role}.path`, f.path, `must be "step-<step>-<hash>/${role}.safetensors"`);
    if (!isNonNegativeInteger.test(f.bytes as number))
      return fail(`files.${role}.bytes`, f.bytes, isNonNegativeInteger.rule);
    if (typeof f.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(f.sha256))
      return fail(`files.${role}.sha256`, f.sha256, "must be 64 lowercase hex digits");
  }
  return E.right(json as unknown as StateJson);
};

/** Reads one recorded file and checks its size and SHA-256, then its safetensors structure. */
const readRecorded = async (
  dir: string,
  entry: FileEntry,
): Promise<E.Either<ScoreflowError, ReadonlyMap<string, Tensor>>> => {
  const context = "loadCheckpoint";
  const path = join(dir, entry.path);
  const read = await attempt(context, path, "must be a readable file (named by state.json)", () =>
    readFile(path),
  );
  if (E.isLeft(read)) return read;
  const bytes = new Uint8Array(read.right.buffer, read.right.byteOffset, read.right.byteLength);
  if (bytes.length !== entry.bytes)
    return E.left(
      scoreflowError(
        context,
        path,
        bytes.length,
        `must be ${entry.bytes} bytes as state.json records (the file is ${bytes.length < entry.bytes ? "truncated" : "too long"})`,
        `${bytes.length} bytes`,
      ),
    );
  const hash = sha256(bytes);
  if (hash !== entry.sha256)
    return E.left(
      scoreflowError(
        context,
        path,
        hash,
        `must have the SHA-256 state.json records, ${entry.sha256} (the file is corrupt)`,
        `sha256=${hash}`,
      ),
    );
  return pipe(
    readSafetensors(bytes),
    E.bimap(
      (e) => scoreflowError(context, path, e.value, `must be a valid safetensors file: ${e.message}`),
      (s) => s.tensors,
    ),
  );
};

/** Splits the optimizer file into m and v, refusing any other name. */
const splitMoments = (
  path: string,
  tensors: ReadonlyMap<string, Tensor>,
): E.Either<ScoreflowError, { readonly m: Parameters; readonly v: Parameters }> => {
  const m = new Map<string, Tensor>();
  const v = new Map<string, Tensor>();
  for (const [name, t] of tensors) {
    if (name.startsWith("m.")) m.set(name.slice(2), t);
    else if (name.startsWith("v.")) v.set(name.slice(2), t);
    else
      return E.left(
        scoreflowError("loadCheckpoint", path, name, 'must name only tensors "m.<name>" and "v.<name>"'),
      );
  }
  return E.right({ m, v });
};

/**
 * Loads the checkpoint that `dir/state.json` names: parses and checks `state.json` (format, version, integers,
 * file entries, and the config through `trainConfigFromJson`), then reads each safetensors file and checks its
 * size and SHA-256 against the record before decoding it. Every failure is a Left naming the file (missing,
 * truncated, corrupt, not safetensors) or the field of `state.json`. The tensors are bit-exact copies of those
 * saved; check them against the network with `checkTrainState` before training.
 *
 * @category I/O
 */
export const loadCheckpoint = async (dir: string): Promise<E.Either<ScoreflowError, Checkpoint>> => {
  const statePath = join(dir, STATE_FILE);
  const text = await attempt("loadCheckpoint", statePath, "must be a readable file", () =>
    readFile(statePath, "utf8"),
  );
  if (E.isLeft(text)) return text;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text.right);
  } catch (e) {
    return E.left(scoreflowError("loadCheckpoint", statePath, statePath, "must be valid JSON", messageOf(e)));
  }
  const header = parseStateJson(statePath, parsed);
  if (E.isLeft(header)) return header;
  const config = E.mapLeft((e: ScoreflowError) =>
    scoreflowError(`loadCheckpoint: ${statePath}`, `config.${e.field}`, e.value, `${e.rule} (${e.context})`),
  )(trainConfigFromJson((parsed as Readonly<Record<string, unknown>>).config));
  if (E.isLeft(config)) return config;
  const { step, optimizerStep, dataOrder, model, files } = header.right;
  const parameters = await readRecorded(dir, files.model);
  if (E.isLeft(parameters)) return parameters;
  const ema = await readRecorded(dir, files.ema);
  if (E.isLeft(ema)) return ema;
  const moments = E.flatMap((t: ReadonlyMap<string, Tensor>) =>
    splitMoments(join(dir, files.optimizer.path), t),
  )(await readRecorded(dir, files.optimizer));
  if (E.isLeft(moments)) return moments;
  return E.right({
    config: config.right,
    model,
    state: {
      step,
      parameters: parameters.right,
      ema: ema.right,
      optimizer: { step: optimizerStep, m: moments.right.m, v: moments.right.v },
      dataOrder: { epoch: dataOrder.epoch, offset: dataOrder.offset },
    },
  });
};
