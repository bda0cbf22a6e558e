/**
 * The safetensors checkpoint format, read and written from bytes (no file system: works in Node and browsers).
 * Layout: 8 bytes N (unsigned 64-bit little-endian), N bytes of UTF-8 JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"?: {string: string}}`, then the byte buffer;
 * offsets are relative to the start of the buffer, values little-endian and row-major (C order).
 *
 * The reader checks what the reference implementation checks (`SafeTensors::read_metadata` and
 * `Metadata::validate`): header length ≤ 100 000 000 and within the file, UTF-8, JSON, known dtype,
 * `end − begin = numel(shape) · sizeof(dtype)` without overflow, and offsets that, sorted, tile the buffer
 * exactly from 0 to its end (no overlap, no hole, no trailing bytes); besides, duplicate JSON keys are refused
 * (the format disallows them; serde_json would keep the last). Any failure is a `Left` naming the problem; no
 * partial result is ever returned.
 *
 * Source: huggingface/safetensors, README.md "Format" and safetensors/src/tensor.rs (`prepare`, `serialize`,
 * `read_metadata`, `validate`, `Dtype::size`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../../core/errors.js";
import { isRecord } from "../../core/guards.js";
import { size, type Tensor } from "../../core/tensor.js";

/**
 * The element types {@link readSafetensors} converts to float32: F32 (bit-exact), F16 and BF16 (exact, every
 * half and bfloat16 value is a float32), F64 (rounded to the nearest float32; a finite value beyond the float32
 * range is refused rather than turned into ±∞).
 *
 * @category I/O
 */
export type SafetensorsDtype = "F32" | "F16" | "BF16" | "F64";

/**
 * The contents of a safetensors file: float32 tensors, the dtype each was stored in, and the free-form
 * string metadata.
 *
 * @category I/O
 */
export interface Safetensors {
  /** Tensors by name, in the order of their data in the file; shapes as stored (`[]` is a scalar). */
  readonly tensors: ReadonlyMap<string, Tensor>;
  /** The dtype each tensor was stored in before conversion to float32. */
  readonly dtypes: ReadonlyMap<string, SafetensorsDtype>;
  /** The `__metadata__` string map; empty when the header has none. */
  readonly metadata: Readonly<Record<string, string>>;
}

/**
 * Largest header accepted, in bytes (the reference implementation's `MAX_HEADER_SIZE`).
 *
 * @category I/O
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

const CONTEXT = "safetensors";
const METADATA_KEY = "__metadata__";

/** Bytes per element of every dtype the format defines (`Dtype::size`), supported or not. */
const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1,
  U8: 1,
  I8: 1,
  F8_E5M2: 1,
  F8_E4M3: 1,
  I16: 2,
  U16: 2,
  F16: 2,
  BF16: 2,
  I32: 4,
  U32: 4,
  F32: 4,
  F64: 8,
  I64: 8,
  U64: 8,
};
const SUPPORTED: readonly SafetensorsDtype[] = ["F32", "F16", "BF16", "F64"];

const fail = (field: string, value: unknown, rule: string, got?: string): E.Either<ScoreflowError, never> =>
  E.left(scoreflowError(CONTEXT, field, value, rule, got));

/**
 * Finds the first object in a JSON text (already known to parse) that repeats a key, and names it. Keys are
 * compared after unescaping, so `"a"` and `"\u0061"` are the same key.
 */
const findDuplicateKey = (text: string): string | undefined => {
  const stack: Array<Set<string> | null> = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === "{") stack.push(new Set());
    else if (c === "[") stack.push(null);
    else if (c === "}" || c === "]") stack.pop();
    else if (c === '"') {
      const start = i;
      i++;
      while (text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
      let j = i + 1;
      while (j < text.length && " \t\n\r".includes(text[j])) j++;
      const keys = stack[stack.length - 1];
      if (keys && text[j] === ":") {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
      }
    }
    i++;
  }
  return undefined;
};

/** One validated header entry. */
interface Entry {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly begin: number;
  readonly end: number;
}

const isIndex = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

/** Validates one tensor's header entry: dtype, shape, offsets and their agreement. */
const parseEntry = (name: string, info: unknown): E.Either<ScoreflowError, Entry> => {
  const field = `header[${JSON.stringify(name)}]`;
  if (!isRecord(info)) return fail(field, info, "must be an object {dtype, shape, data_offsets}");
  const { dtype, shape, data_offsets: offsets } = info;
  if (typeof dtype !== "string" || !(dtype in DTYPE_BYTES)) {
    return fail(
      `${field}.dtype`,
      dtype,
      `must be a safetensors dtype (${Object.keys(DTYPE_BYTES).join(", ")})`,
    );
  }
  if (!SUPPORTED.includes(dtype as SafetensorsDtype)) {
    return fail(
      `${field}.dtype`,
      dtype,
      `must be one of ${SUPPORTED.join(", ")} (the float types read as float32)`,
    );
  }
  if (!Array.isArray(shape) || !shape.every(isIndex)) {
    return fail(`${field}.shape`, shape, "must be a list of integers ≥ 0");
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isIndex) || offsets[0] > offsets[1]) {
    return fail(`${field}.data_offsets`, offsets, "must be two integers 0 ≤ begin ≤ end");
  }
  const bytes = DTYPE_BYTES[dtype];
  let count = bytes;
  for (const d of shape) {
    count *= d;
    if (!Number.isSafeInteger(count)) {
      return fail(
        `${field}.shape`,
        shape,
        "must have a byte size below 2⁵³ (numel · sizeof(dtype) overflows)",
      );
    }
  }
  const [begin, end] = offsets as [number, number];
  if (end - begin !== count) {
    return fail(
      `${field}.data_offsets`,
      offsets,
      `must span numel(shape) · sizeof(${dtype}) = ${count} bytes`,
      `data_offsets=[${begin}, ${end}] (${end - begin} bytes)`,
    );
  }
  return E.right({ name, dtype: dtype as SafetensorsDtype, shape: [...shape], begin, end });
};

/** float32 bit pattern of an IEEE 754 binary16 bit pattern; exact (subnormals normalized, NaN payload kept). */
const halfToFloatBits = (h: number): number => {
  const sign = (h & 0x8000) << 16;
  const exp = (h >>> 10) & 0x1f;
  let mant = h & 0x3ff;
  if (exp === 0x1f) return (sign | 0x7f800000 | (mant << 13)) >>> 0;
  if (exp !== 0) return (sign | ((exp + 112) << 23) | (mant << 13)) >>> 0;
  if (mant === 0) return sign >>> 0;
  let e = 113;
  while ((mant & 0x400) === 0) {
    mant <<= 1;
    e--;
  }
  return (sign | (e << 23) | ((mant & 0x3ff) << 13)) >>> 0;
};

/** Decodes one validated entry into float32; a finite F64 value beyond the float32 range is an error. */
const decode = (view: DataView, base: number, entry: Entry): E.Either<ScoreflowError, Float32Array> => {
  const n = size(entry.shape);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer);
  const at = base + entry.begin;
  switch (entry.dtype) {
    case "F32":
      for (let i = 0; i < n; i++) bits[i] = view.getUint32(at + 4 * i, true);
      break;
    case "F16":
      for (let i = 0; i < n; i++) bits[i] = halfToFloatBits(view.getUint16(at + 2 * i, true));
      break;
    case "BF16":
      for (let i = 0; i < n; i++) bits[i] = view.getUint16(at + 2 * i, true) << 16;
      break;
    case "F64":
      for (let i = 0; i < n; i++) {
        const x = view.getFloat64(at + 8 * i, true);
        out[i] = x;
        if (Number.isFinite(x) && !Number.isFinite(out[i])) {
          return fail(
            `${entry.name}[${i}]`,
            x,
            "must lie within the float32 range (|x| ≤ 3.4028235e38) to be read as float32",
          );
        }
      }
      break;
  }
  return E.right(out);
};

/** A byte view of the input, whatever its kind. */
const asBytes = (input: Uint8Array | ArrayBuffer): Uint8Array =>
  input instanceof Uint8Array ? input : new Uint8Array(input);

/**
 * Reads a safetensors file into float32 tensors. Shapes are kept as stored (a `[]` scalar or a shape with a 0
 * axis is valid in the format). Values are not checked for finiteness: the format allows NaN and ±∞, and F32
 * bit patterns (NaN payloads included) come back unchanged. F16 and BF16 widen exactly; F64 is rounded to the
 * nearest float32 (a finite value beyond ±3.4028235e38 gives a `Left`). Other dtypes (integers, bool, fp8)
 * give a `Left`.
 *
 * Errors name the problem: a file shorter than 8 bytes, a header length beyond 100 000 000 bytes or the file,
 * invalid UTF-8 or JSON, a header that is not an object, a repeated key, a malformed entry or `__metadata__`,
 * an offset span that disagrees with shape × dtype, and offsets that overlap, leave a hole, or stop short of
 * (or run past) the end of the file.
 *
 * Source: huggingface/safetensors README.md "Format"; safetensors/src/tensor.rs `read_metadata`, `validate`.
 *
 * @category I/O
 */
export const readSafetensors = (input: Uint8Array | ArrayBuffer): E.Either<ScoreflowError, Safetensors> => {
  const bytes = asBytes(input);
  if (bytes.length < 8) {
    return fail("file", bytes.length, "must hold at least the 8-byte header length", `${bytes.length} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (n > SAFETENSORS_MAX_HEADER_BYTES) {
    return fail("header length", n, `must be ≤ ${SAFETENSORS_MAX_HEADER_BYTES} bytes`);
  }
  if (8 + n > bytes.length) {
    return fail(
      "header length",
      n,
      "must fit in the file (8 + N ≤ file size); the file is truncated or corrupt",
      `header length=${n}, file size=${bytes.length}`,
    );
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes.subarray(8, 8 + n));
  } catch {
    return fail("header", n, "must be valid UTF-8", `${n} header bytes that are not`);
  }
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (e) {
    return fail("header", text.slice(0, 60), "must be valid JSON", `${(e as Error).message}`);
  }
  if (!isRecord(header)) return fail("header", text.slice(0, 60), "must be a JSON object");
  const duplicate = findDuplicateKey(text);
  if (duplicate !== undefined)
    return fail("header", duplicate, "must not repeat a key", `key ${JSON.stringify(duplicate)} twice`);

  const rawMetadata = header[METADATA_KEY] ?? {};
  if (!isRecord(rawMetadata) || !Object.values(rawMetadata).every((v) => typeof v === "string")) {
    return fail(METADATA_KEY, rawMetadata, "must be an object of string values");
  }
  // fromEntries defines own properties, so a "__proto__" key stays a key.
  const metadata = Object.fromEntries(Object.entries(rawMetadata)) as Record<string, string>;

  const entries: Entry[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === METADATA_KEY) continue;
    const entry = parseEntry(name, info);
    if (E.isLeft(entry)) return entry;
    entries.push(entry.right);
  }
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  const bufferLength = bytes.length - 8 - n;
  let offset = 0;
  for (const e of entries) {
    if (e.begin !== offset) {
      return fail(
        `header[${JSON.stringify(e.name)}].data_offsets`,
        [e.begin, e.end],
        `must begin where the previous tensor ends, at byte ${offset} (${e.begin < offset ? "overlap" : "hole"})`,
        `data_offsets=[${e.begin}, ${e.end}]`,
      );
    }
    offset = e.end;
  }
  if (offset !== bufferLength) {
    return fail(
      "data buffer",
      bufferLength,
      `must end exactly where the last tensor ends, at byte ${offset} (${offset > bufferLength ? "the file is truncated" : "trailing bytes"})`,
      `buffer of ${bufferLength} bytes`,
    );
  }

  const tensors = new Map<string, Tensor>();
  const dtypes = new Map<string, SafetensorsDtype>();
  for (const e of entries) {
    const data = decode(view, 8 + n, e);
    if (E.isLeft(data)) return data;
    tensors.set(e.name, { shape: e.shape, data: data.right });
    dtypes.set(e.name, e.dtype);
  }
  return E.right({ tensors, dtypes, metadata });
};

/** Orders strings by Unicode code point, i.e. by their UTF-8 bytes (Rust's `String` order). */
const compareCodePoints = (a: string, b: string): number => {
  const ai = a[Symbol.iterator]();
  const bi = b[Symbol.iterator]();
  for (;;) {
    const x = ai.next();
    const y = bi.next();
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1);
    const d = (x.value.codePointAt(0) ?? 0) - (y.value.codePointAt(0) ?? 0);
    if (d !== 0) return d;
  }
};

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Writes float32 tensors as a safetensors file (dtype F32). Deterministic: tensors in code-point order of their
 * names (the reference writer's order, which sorts by dtype then name), metadata keys sorted the same way,
 * compact JSON `{"__metadata__":{…},"name":{"dtype":"F32","shape":[…],"data_offsets":[b,e]},…}` padded with
 * spaces to a multiple of 8 bytes so that the data is 8-byte aligned, then the raw little-endian float32 bits
 * (NaN payloads kept). {@link readSafetensors} of the result gives back the same names, shapes and bits.
 *
 * Errors (`Left`): a tensor named `__metadata__`, a name or metadata string that is not well-formed Unicode (a
 * lone surrogate), a shape that is not a list of integers ≥ 0, or a data length that differs from the product
 * of the shape.
 *
 * Source: huggingface/safetensors safetensors/src/tensor.rs `prepare` (sort, 8-byte space padding), `serialize`.
 *
 * @category I/O
 */
export const writeSafetensors = (
  tensors: ReadonlyMap<string, Tensor> | Readonly<Record<string, Tensor>>,
  metadata?: Readonly<Record<string, string>>,
): E.Either<ScoreflowError, Uint8Array> => {
  const items = [...(tensors instanceof Map ? tensors.entries() : Object.entries(tensors))] as Array<
    [string, Tensor]
  >;
  items.sort(([a], [b]) => compareCodePoints(a, b));
  const meta = Object.entries(metadata ?? {}).sort(([a], [b]) => compareCodePoints(a, b));
  for (const [key, value] of meta) {
    if (LONE_SURROGATE.test(key) || LONE_SURROGATE.test(value)) {
      return fail(
        `${METADATA_KEY}[${JSON.stringify(key)}]`,
        value,
        "must be well-formed Unicode (no lone surrogate)",
      );
    }
  }
  const parts: string[] = [];
  if (metadata !== undefined) {
    parts.push(
      `${JSON.stringify(METADATA_KEY)}:{${meta.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(",")}}`,
    );
  }
  let offset = 0;
  for (const [name, t] of items) {
    if (name === METADATA_KEY) return fail("name", name, "must not be the reserved key __metadata__");
    if (LONE_SURROGATE.test(name))
      return fail("name", name, "must be well-formed Unicode (no lone surrogate)");
    if (!t.shape.every(isIndex)) return fail(`${name}.shape`, t.shape, "must be a list of integers ≥ 0");
    if (t.data.length !== size(t.shape)) {
      return fail(
        `${name}.data`,
        t.data.length,
        `length must equal the product of the shape [${t.shape.join(", ")}] = ${size(t.shape)}`,
        `data.length=${t.data.length}`,
      );
    }
    const end = offset + 4 * t.data.length;
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"F32","shape":[${t.shape.join(",")}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = new TextEncoder().encode(`{${parts.join(",")}}`);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, n % 2 ** 32, true);
  view.setUint32(4, Math.floor(n / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + n);
  let at = 8 + n;
  for (const [, t] of items) {
    const bits = new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length);
    for (let i = 0; i < bits.length; i++, at += 4) view.setUint32(at, bits[i], true);
  }
  return E.right(out);
};
