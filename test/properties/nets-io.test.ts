import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { orThrow } from "../../src/core/errors.js";
import { size, type Tensor, zeros32 } from "../../src/core/tensor.js";
import { readSafetensors, type Safetensors, writeSafetensors } from "../../src/nets/io/safetensors.js";
import { checkUnet2DCheckpoint, unet2DConfig, unet2DParameters } from "../../src/nets/io/unet-config.js";

/** A tensor of arbitrary float32 bit patterns (NaN payloads, ±0, subnormals, ±∞ included). */
const tensorArb: fc.Arbitrary<Tensor> = fc
  .array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 })
  .chain((shape) =>
    fc
      .array(fc.integer({ min: 0, max: 0xffffffff }), { minLength: size(shape), maxLength: size(shape) })
      .map((bits) => ({
        shape,
        data: new Float32Array(Uint32Array.from(bits).buffer),
      })),
  );
const tensorsArb = fc
  .uniqueArray(fc.string({ unit: "grapheme", maxLength: 6 }), { maxLength: 5 })
  .chain((names) =>
    fc
      .array(tensorArb, { minLength: names.length, maxLength: names.length })
      .map((ts) => new Map(names.filter((n) => n !== "__metadata__").map((n, i) => [n, ts[i]]))),
  );
const metadataArb = fc.option(
  fc.dictionary(fc.string({ unit: "grapheme", maxLength: 5 }), fc.string({ unit: "grapheme" })),
  {
    nil: undefined,
  },
);
const bitsOf = (t: Tensor): number[] =>
  Array.from(new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length));
const consistent = (s: Safetensors): boolean =>
  [...s.tensors.values()].every((t) => t.data.length === size(t.shape));

describe("safetensors properties", () => {
  it("write → read gives back the names, shapes and float32 bits; writing again gives the same bytes", () => {
    fc.assert(
      fc.property(tensorsArb, metadataArb, (tensors, metadata) => {
        const file = orThrow(writeSafetensors(tensors, metadata));
        const back = orThrow(readSafetensors(file));
        expect(new Set(back.tensors.keys())).toEqual(new Set(tensors.keys()));
        for (const [name, t] of tensors) {
          expect(back.tensors.get(name)!.shape).toEqual(t.shape);
          expect(bitsOf(back.tensors.get(name)!)).toEqual(bitsOf(t));
          expect(back.dtypes.get(name)).toBe("F32");
        }
        expect(back.metadata).toEqual({ ...metadata });
        expect((8 + new DataView(file.buffer).getUint32(0, true)) % 8).toBe(0);
        expect(orThrow(writeSafetensors(back.tensors, metadata))).toEqual(file);
      }),
      { numRuns: 150 },
    );
  });

  it("every truncation of a valid file is a Left (never a throw, never a partial result)", () => {
    fc.assert(
      fc.property(
        tensorsArb.chain((t) => {
          const file = orThrow(writeSafetensors(t));
          return fc.tuple(fc.constant(file), fc.integer({ min: 0, max: file.length - 1 }));
        }),
        ([file, cut]) => E.isLeft(readSafetensors(file.subarray(0, cut))),
      ),
      { numRuns: 300 },
    );
  });

  it("random byte changes never throw: the result is a Left or a consistent set of tensors", () => {
    fc.assert(
      fc.property(
        tensorsArb,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (tensors, flips) => {
          const file = orThrow(writeSafetensors(tensors)).slice();
          for (const [at, byte] of flips) file[at % file.length] = byte;
          const r = readSafetensors(file);
          return E.isLeft(r) || consistent(r.right);
        },
      ),
      { numRuns: 400 },
    );
  });

  it("changes confined to the data buffer read back as exactly those bits", () => {
    fc.assert(
      fc.property(
        tensorsArb.filter((t) => [...t.values()].some((x) => x.data.length > 0)),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (tensors, flips) => {
          const file = orThrow(writeSafetensors(tensors)).slice();
          const start = 8 + new DataView(file.buffer).getUint32(0, true);
          for (const [at, byte] of flips) file[start + (at % (file.length - start))] = byte;
          const back = orThrow(readSafetensors(file));
          const view = new DataView(file.buffer);
          let at = start;
          for (const t of back.tensors.values()) {
            for (const b of bitsOf(t)) {
              if (b !== view.getUint32(at, true)) return false;
              at += 4;
            }
          }
          return at === file.length;
        },
      ),
      { numRuns: 200 },
    );
  });

  it("F64 reads as Math.fround(x), or a Left exactly when a finite x overflows float32", () => {
    fc.assert(
      fc.property(fc.array(fc.double(), { minLength: 1, maxLength: 8 }), (xs) => {
        const header = new TextEncoder().encode(
          `{"x":{"dtype":"F64","shape":[${xs.length}],"data_offsets":[0,${8 * xs.length}]}}`,
        );
        const file = new Uint8Array(8 + header.length + 8 * xs.length);
        const view = new DataView(file.buffer);
        view.setUint32(0, header.length, true);
        file.set(header, 8);
        xs.forEach((x, i) => {
          view.setFloat64(8 + header.length + 8 * i, x, true);
        });
        const r = readSafetensors(file);
        const overflows = xs.some((x) => Number.isFinite(x) && !Number.isFinite(Math.fround(x)));
        if (overflows) return E.isLeft(r);
        return (
          E.isRight(r) &&
          Array.from(r.right.tensors.get("x")!.data).every((v, i) => Object.is(v, Math.fround(xs[i])))
        );
      }),
      { numRuns: 300 },
    );
  });
});

const configArb = fc
  .record({
    levels: fc.integer({ min: 1, max: 3 }),
    groups: fc.constantFrom(1, 2, 4),
    widths: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
    attention: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
    layers: fc.integer({ min: 1, max: 2 }),
    fourier: fc.boolean(),
    addAttention: fc.boolean(),
  })
  .map((r) => ({
    block_out_channels: r.widths.slice(0, r.levels).map((w) => w * r.groups * 2),
    down_block_types: r.attention.slice(0, r.levels).map((a) => (a ? "AttnDownBlock2D" : "DownBlock2D")),
    up_block_types: r.attention.slice(3, 3 + r.levels).map((a) => (a ? "AttnUpBlock2D" : "UpBlock2D")),
    layers_per_block: r.layers,
    norm_num_groups: r.groups,
    attention_head_dim: 2,
    time_embedding_type: r.fourier ? "fourier" : "positional",
    add_attention: r.addAttention,
    in_channels: 1,
    out_channels: 2,
  }));

describe("UNet2DModel parameter list properties", () => {
  it("unique names, positive sizes, GroupNorms divisible, conv_shortcut exactly when a resnet changes width", () => {
    fc.assert(
      fc.property(configArb, (json) => {
        const ps = unet2DParameters(orThrow(unet2DConfig(json)));
        const shapes = new Map(ps.map((p) => [p.name, p.shape]));
        const norms = ps.filter((p) => /(norm1|norm2|group_norm|conv_norm_out)\.weight$/.test(p.name));
        const conv1s = ps.filter((p) => p.name.endsWith(".conv1.weight"));
        return (
          shapes.size === ps.length &&
          ps.every((p) => p.shape.every((d) => Number.isSafeInteger(d) && d >= 1)) &&
          norms.every((p) => p.shape[0] % json.norm_num_groups === 0) &&
          conv1s.every((p) => {
            const shortcut = shapes.has(p.name.replace(".conv1.weight", ".conv_shortcut.weight"));
            return shortcut === (p.shape[0] !== p.shape[1]);
          })
        );
      }),
      { numRuns: 200 },
    );
  });

  it("a checkpoint of exactly the listed shapes passes; dropping one tensor names exactly that one", () => {
    fc.assert(
      fc.property(configArb, fc.nat(), (json, pick) => {
        const config = orThrow(unet2DConfig(json));
        const ps = unet2DParameters(config);
        const tensors = new Map(ps.map((p) => [p.name, zeros32(p.shape)]));
        if (E.isLeft(checkUnet2DCheckpoint(config, tensors))) return false;
        const dropped = ps[pick % ps.length].name;
        tensors.delete(dropped);
        const r = checkUnet2DCheckpoint(config, tensors);
        return (
          E.isLeft(r) &&
          JSON.stringify(r.left.value) ===
            JSON.stringify({ missing: [dropped], unexpected: [], misshaped: [] })
        );
      }),
      { numRuns: 100 },
    );
  });
});
