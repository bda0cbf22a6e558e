/**
 * The IDX format of the MNIST files, read from bytes (no file system: works in Node and browsers), and MNIST as a
 * tensor of images in [−1, 1].
 *
 * Layout (LeCun et al., "The MNIST database of handwritten digits", yann.lecun.com/exdb/mnist, "File formats"):
 * two zero bytes, a type byte (0x08 unsigned byte, the only type MNIST uses and the only one read here), the
 * number of dimensions d, then d sizes as unsigned 32-bit big-endian integers, then the values in row-major
 * order, exactly ∏ sizes of them.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { checkAll, isNonNegativeInteger, type NumberRule } from "../core/validate.js";
import { intensityToUnit } from "./pixels.js";

/**
 * An unsigned-byte IDX array: its sizes and its values in row-major order.
 *
 * @category I/O
 */
export interface IdxArray {
  /** The sizes of the axes, outermost first (at least one axis; a size may be 0). */
  readonly dims: readonly number[];
  /** The ∏ dims values, row-major; a view into the parsed bytes, not a copy. */
  readonly data: Uint8Array;
}

/** The type byte of unsigned 8-bit values. */
const UBYTE = 0x08;
const IDX = "IDX";

/**
 * Parses an IDX buffer of unsigned bytes. Left, naming the rule, for a buffer shorter than its header, a magic
 * other than 0x00 0x00, a type other than 0x08 (unsigned byte), zero dimensions, or a length other than
 * 4 + 4·d + ∏ sizes (truncated or oversized data).
 *
 * Source: LeCun et al., "The MNIST database", "File formats for the MNIST database" (the IDX description).
 *
 * @category I/O
 */
export const parseIdx = (bytes: Uint8Array): E.Either<ScoreflowError, IdxArray> => {
  if (bytes.length < 4) {
    return E.left(scoreflowError(IDX, "length", bytes.length, "must be at least 4 (the magic number)"));
  }
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    return E.left(
      scoreflowError(
        IDX,
        "magic",
        [bytes[0], bytes[1]],
        "must start with the bytes 0x00 0x00 (not an IDX file)",
      ),
    );
  }
  if (bytes[2] !== UBYTE) {
    return E.left(
      scoreflowError(
        IDX,
        "type",
        bytes[2],
        "must be 0x08 (unsigned byte); other element types are not supported",
      ),
    );
  }
  const ndim = bytes[3];
  if (ndim === 0) return E.left(scoreflowError(IDX, "ndim", ndim, "must be at least 1"));
  const header = 4 + 4 * ndim;
  if (bytes.length < header) {
    return E.left(
      scoreflowError(
        IDX,
        "length",
        bytes.length,
        `must hold the ${ndim} sizes of the header (${header} bytes)`,
      ),
    );
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims = Array.from({ length: ndim }, (_, k) => view.getUint32(4 + 4 * k, false));
  const expected = header + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    return E.left(
      scoreflowError(
        IDX,
        "length",
        bytes.length,
        `must be ${expected} = ${header} header bytes + ${dims.join(" × ")} values (${bytes.length < expected ? "truncated" : "trailing bytes"})`,
      ),
    );
  }
  return E.right({ dims, data: bytes.subarray(header) });
};

/**
 * How {@link mnistDataset} shapes the images.
 *
 * @category Data
 */
export interface MnistOptions {
  /** Pixels of background (value −1) added on every side after downsampling, an integer ≥ 0; default 0 (2 → 32 × 32). */
  readonly pad?: number;
  /** 1 keeps 28 × 28; 2 averages 2 × 2 blocks to 14 × 14. Default 1. */
  readonly downsample?: 1 | 2;
}

/**
 * MNIST as tensors: images [N, 1, H, W] in [−1, 1] and their labels 0–9.
 *
 * @category Data
 */
export interface MnistDataset {
  /** Float32 images [N, 1, H, W], x = v/127.5 − 1 for a pixel (or 2 × 2 mean) v ∈ [0, 255]; background is −1. */
  readonly images: Tensor;
  /** The N digit labels, each 0–9. */
  readonly labels: Uint8Array;
}

const MNIST = "mnistDataset";
const isOneOrTwo: NumberRule = { test: (x) => x === 1 || x === 2, rule: "must be 1 or 2" };

/**
 * MNIST images and labels from their IDX arrays: images [N, 28, 28] and labels [N] with every label ≤ 9. Each
 * image is optionally downsampled by averaging 2 × 2 blocks (28 → 14), then padded with `pad` background pixels on
 * every side (H = W = 28/downsample + 2·pad), and mapped to x = v/127.5 − 1. Left for mismatched counts, other
 * sizes, a label above 9, or invalid options.
 *
 * Source: LeCun et al. 1998, "Gradient-based learning applied to document recognition" (the dataset); padding to
 * 32 × 32 as in the LeNet-5 input and in score_sde's MNIST configs.
 *
 * @category Data
 */
export const mnistDataset = (
  images: IdxArray,
  labels: IdxArray,
  options: MnistOptions = {},
): E.Either<ScoreflowError, MnistDataset> => {
  const pad = options.pad ?? 0;
  const factor = options.downsample ?? 1;
  const valid = checkAll(MNIST, [
    ["pad", pad, isNonNegativeInteger],
    ["downsample", factor, isOneOrTwo],
  ]);
  if (E.isLeft(valid)) return valid;
  const [n, rows, cols] = images.dims;
  if (images.dims.length !== 3 || rows !== 28 || cols !== 28 || n < 1) {
    return E.left(
      scoreflowError(
        MNIST,
        "images.dims",
        images.dims,
        "must be [N, 28, 28] with N ≥ 1",
        `dims=[${images.dims.join(", ")}]`,
      ),
    );
  }
  if (labels.dims.length !== 1 || labels.dims[0] !== n) {
    return E.left(
      scoreflowError(
        MNIST,
        "labels.dims",
        labels.dims,
        `must be [${n}], one label per image`,
        `dims=[${labels.dims.join(", ")}]`,
      ),
    );
  }
  const bad = labels.data.findIndex((l) => l > 9);
  if (bad >= 0)
    return E.left(scoreflowError(MNIST, `labels[${bad}]`, labels.data[bad], "must be a digit 0–9"));
  const inner = 28 / factor;
  const side = inner + 2 * pad;
  const out = new Float32Array(n * side * side).fill(-1);
  const scale = 1 / (factor * factor);
  for (let k = 0; k < n; k++) {
    const src = k * 784;
    const dst = k * side * side;
    for (let i = 0; i < inner; i++) {
      for (let j = 0; j < inner; j++) {
        let sum = 0;
        for (let a = 0; a < factor; a++) {
          for (let b = 0; b < factor; b++) sum += images.data[src + (i * factor + a) * 28 + j * factor + b];
        }
        out[dst + (i + pad) * side + j + pad] = intensityToUnit(sum * scale);
      }
    }
  }
  return E.right({ images: { shape: [n, 1, side, side], data: out }, labels: new Uint8Array(labels.data) });
};
