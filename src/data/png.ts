/**
 * PNG images as tensors [C, H, W] in [−1, 1], decoded and encoded from bytes with fast-png (pure JavaScript: works
 * in Node and browsers), and stacks of images as batches [N, C, H, W].
 *
 * @module
 */
import { type DecodedPng, decode, encode } from "fast-png";
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import type { Tensor } from "../core/tensor.js";
import { intensityToUnit, unitToByte } from "./pixels.js";

const DECODE = "decodePng";
const ENCODE = "encodePng";

/**
 * Unpacks rows of `depth`-bit samples (1, 2 or 4 bits, most significant first, rows padded to whole bytes) into
 * one value per sample.
 */
const unpackBits = (packed: ArrayLike<number>, width: number, height: number, depth: number): Uint8Array => {
  const rowBytes = Math.ceil((width * depth) / 8);
  const mask = (1 << depth) - 1;
  const out = new Uint8Array(width * height);
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const bit = j * depth;
      out[i * width + j] = (packed[i * rowBytes + (bit >> 3)] >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
};

/** The samples of a decoded PNG, one value per channel and pixel, pixel-major. */
interface Samples {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  /** The largest sample value, 2^depth − 1. */
  readonly maxValue: number;
  readonly values: ArrayLike<number>;
}

/**
 * The samples of a decoded PNG: palette indices replaced by their RGB(A) colors, 1-, 2- and 4-bit grayscale
 * unpacked. Throws on an index outside the palette (the caller turns throws into Lefts).
 */
const samplesOf = (png: DecodedPng): Samples => {
  const { width, height, depth, palette } = png;
  if (palette === undefined || png.channels !== 1) {
    const values = depth < 8 ? unpackBits(png.data, width, height, depth) : png.data;
    return { width, height, channels: png.channels, maxValue: 2 ** depth - 1, values };
  }
  const indices = depth < 8 ? unpackBits(png.data, width, height, depth) : png.data;
  const channels = palette[0]?.length ?? 3;
  const values = new Uint8Array(width * height * channels);
  for (let p = 0; p < indices.length; p++) {
    const color = palette[indices[p]];
    if (color === undefined) throw new Error(`palette index ${indices[p]} is out of range`);
    values.set(color, p * channels);
  }
  return { width, height, channels, maxValue: 255, values };
};

/**
 * Decodes PNG bytes into a float32 tensor [C, H, W] in [−1, 1]: C = 1 for grayscale, C = 3 for RGB and palette
 * images; an alpha channel is dropped (colors are not composited). A sample v of bit depth b maps to
 * 2·v/(2^b − 1) − 1 (v/127.5 − 1 for 8 bits; 16-bit samples are scaled by 65535, 1-, 2- and 4-bit grayscale by
 * 2^b − 1). CRCs are checked; any corrupt, truncated or unsupported file is a Left carrying the decoder's message,
 * never a throw.
 *
 * Source: W3C, "Portable Network Graphics (PNG) Specification (Third Edition)", §6 (color types, bit depths),
 * §11.2 (critical chunks); fast-png `decode`.
 *
 * @category I/O
 */
export const decodePng = (bytes: Uint8Array): E.Either<ScoreflowError, Tensor> => {
  let s: Samples;
  try {
    s = samplesOf(decode(bytes, { checkCrc: true }));
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return E.left(scoreflowError(DECODE, "bytes", bytes, "must be a valid PNG file", message));
  }
  const { width, height, channels, maxValue, values } = s;
  if (!(width >= 1 && height >= 1) || values.length !== width * height * channels) {
    return E.left(
      scoreflowError(
        DECODE,
        "bytes",
        bytes,
        `must decode to ${width} × ${height} pixels of ${channels} samples`,
        `${values.length} samples`,
      ),
    );
  }
  const colors = channels >= 3 ? 3 : 1;
  const plane = width * height;
  const out = new Float32Array(colors * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < colors; c++) out[c * plane + p] = intensityToUnit(values[p * channels + c], maxValue);
  }
  return E.right({ shape: [colors, height, width], data: out });
};

/**
 * Encodes a tensor [C, H, W] (C = 1 gray or C = 3 RGB) of values in [−1, 1] as an 8-bit PNG: each value x becomes
 * the byte clamp(round((x + 1)·127.5), 0, 255), so values decoded by {@link decodePng} from an 8-bit PNG round
 * trip exactly. Left for another shape or a non-finite value.
 *
 * Source: W3C PNG Specification (Third Edition); fast-png `encode`.
 *
 * @category I/O
 */
export const encodePng = (image: Tensor): E.Either<ScoreflowError, Uint8Array> => {
  const [channels, height, width] = image.shape;
  if (image.shape.length !== 3 || (channels !== 1 && channels !== 3) || !(height >= 1 && width >= 1)) {
    return E.left(
      scoreflowError(
        ENCODE,
        "shape",
        image.shape,
        "must be [C, H, W] with C = 1 or 3 and H, W ≥ 1",
        `shape=[${image.shape.join(", ")}]`,
      ),
    );
  }
  const plane = width * height;
  const bytes = new Uint8Array(channels * plane);
  for (let p = 0; p < plane; p++) {
    for (let c = 0; c < channels; c++) {
      const x = image.data[c * plane + p];
      if (!Number.isFinite(x))
        return E.left(scoreflowError(ENCODE, `data[${c * plane + p}]`, x, "must be finite"));
      bytes[p * channels + c] = unitToByte(x);
    }
  }
  return E.right(encode({ width, height, data: bytes, depth: 8, channels }));
};

/**
 * Stacks images [C, H, W] of one shape into a batch [N, C, H, W] (float32). Left for an empty list, an image that
 * is not 3-D, or the first image whose shape differs from the first one's; errors name the image by `names[i]`
 * when given (e.g. file names), else as `images[i]`.
 *
 * @category Data
 */
export const imageStack = (
  images: readonly Tensor[],
  names?: readonly string[],
): E.Either<ScoreflowError, Tensor> => {
  const label = (i: number): string => names?.[i] ?? `images[${i}]`;
  if (images.length === 0)
    return E.left(scoreflowError("imageStack", "images", 0, "must hold at least one image", "none"));
  const first = images[0].shape;
  if (first.length !== 3) {
    return E.left(
      scoreflowError(
        "imageStack",
        label(0),
        first,
        "must have a shape [C, H, W]",
        `shape=[${first.join(", ")}]`,
      ),
    );
  }
  const bad = images.findIndex((t) => t.shape.length !== 3 || t.shape.some((s, k) => s !== first[k]));
  if (bad >= 0) {
    return E.left(
      scoreflowError(
        "imageStack",
        label(bad),
        images[bad].shape,
        `must have the shape [${first.join(", ")}] of ${label(0)}`,
        `shape=[${images[bad].shape.join(", ")}]`,
      ),
    );
  }
  const plane = images[0].data.length;
  const out = new Float32Array(images.length * plane);
  images.forEach((t, i) => {
    out.set(t.data, i * plane);
  });
  return E.right({ shape: [images.length, ...first], data: out });
};
