/**
 * A minimal WebAssembly binary emitter: just enough of the MVP and 128-bit SIMD instruction sets to write the
 * nets' micro-kernels as bytes from TypeScript (no toolchain, no dependency). A function body is built with
 * {@link body}; {@link wasmModule} wraps bodies into a module that imports one linear memory and exports the
 * functions by name.
 *
 * Source: WebAssembly Core Specification 2.0, §5 (binary format) and the fixed-width SIMD proposal opcode table.
 *
 * @module
 */

/** Value types used by the kernels (i32 addresses and counters, v128 SIMD registers, f32 scalars). */
type ValType = "i32" | "f32" | "v128";

const valTypeByte: Readonly<Record<ValType, number>> = { i32: 0x7f, f32: 0x7d, v128: 0x7b };

/** Unsigned LEB128 encoding (spec §5.2.2). */
const uleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
  return out;
};

/** Signed LEB128 encoding of a 32-bit integer (spec §5.2.2). */
const sleb = (n: number): number[] => {
  const out: number[] = [];
  let v = n | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    const done = (v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
};

/** A length-prefixed byte vector (spec §5.1.3). */
const vec = (bytes: readonly number[]): number[] => [...uleb(bytes.length), ...bytes];

/** A SIMD instruction: the 0xfd prefix and its LEB128 sub-opcode. */
const simd = (op: number): number[] => [0xfd, ...uleb(op)];

/** A memory argument: log2 alignment and a byte offset. */
const memarg = (align: number, offset: number): number[] => [...uleb(align), ...uleb(offset)];

/**
 * A function body under construction: declared locals and the instruction bytes. Builder methods append and
 * return the builder, so bodies read like the WAT text they encode.
 *
 * @category Networks
 */
export interface Body {
  /** Declares a new local of type `t` and returns its index (parameters come first). */
  readonly local: (t: ValType) => number;
  /** Appends raw instruction bytes. */
  readonly op: (...bytes: number[]) => Body;
  /** `local.get i`. */
  readonly get: (i: number) => Body;
  /** `local.set i`. */
  readonly set: (i: number) => Body;
  /** `i32.const n`. */
  readonly i32: (n: number) => Body;
  /** `i32.add`. */
  readonly add: () => Body;
  /** `i32.mul`. */
  readonly mul: () => Body;
  /** `local.set i (i32.add (local.get i) (i32.const n))`: bump a pointer or counter. */
  readonly inc: (i: number, n: number) => Body;
  /** `i32.load offset` (4-byte aligned). */
  readonly loadI32: (offset?: number) => Body;
  /** `f32.load offset`. */
  readonly loadF32: (offset?: number) => Body;
  /** `f32.store offset`. */
  readonly storeF32: (offset?: number) => Body;
  /** `v128.load offset` (unaligned allowed; alignment hint 1 byte). */
  readonly loadV: (offset?: number) => Body;
  /** `v128.store offset`. */
  readonly storeV: (offset?: number) => Body;
  /** `v128.load32_splat offset`: one f32 broadcast into all four lanes. */
  readonly splatLoad: (offset?: number) => Body;
  /** `v128.const 0`. */
  readonly zeroV: () => Body;
  /** `f32x4.add`. */
  readonly addV: () => Body;
  /** `f32x4.mul`. */
  readonly mulV: () => Body;
  /** `f32x4.extract_lane l`. */
  readonly lane: (l: number) => Body;
  /** `f32.add`. */
  readonly addF: () => Body;
  /** `f32x4.sub`. */
  readonly subV: () => Body;
  /** `f32x4.pmax`: a < b ? b : a lane-wise (one instruction on x86, unlike the NaN-propagating `f32x4.max`). */
  readonly pmaxV: () => Body;
  /** `f32x4.ge`: lane mask, all ones where a ≥ b. */
  readonly geV: () => Body;
  /** `f32x4.abs`: |a| lane-wise (clears the sign bit). */
  readonly absV: () => Body;
  /** `f32x4.div`: a / b lane-wise, correctly rounded. */
  readonly divV: () => Body;
  /** `v128.bitselect`: (a & c) | (b & ~c) for the top three vectors a, b, c (c the mask, on top). */
  readonly bitselectV: () => Body;
  /** `v128.and`. */
  readonly andV: () => Body;
  /** `i32x4.add`. */
  readonly addIV: () => Body;
  /** `i32x4.shl`: each i32 lane shifted left by an i32 count from the stack. */
  readonly shlIV: () => Body;
  /** `v128.const` with the f32 value `x` in all four lanes. */
  readonly constV: (x: number) => Body;
  /** `v128.const` with the i32 value `n` in all four lanes. */
  readonly constIV: (n: number) => Body;
  /** `f32x4.splat`: an f32 from the stack into all four lanes. */
  readonly splatV: () => Body;
  /** `f32.max`. */
  readonly maxF: () => Body;
  /** `i8x16.shuffle` of the top two vectors on the stack, by 16 byte-lane indices (0–15 first, 16–31 second). */
  readonly shuffle: (lanes: readonly number[]) => Body;
  /** `f64x2.promote_low_f32x4`: f32 lanes 0 and 1 to two f64 lanes. */
  readonly promoteLowV: () => Body;
  /** `f64x2.add`. */
  readonly addV64: () => Body;
  /** `f64x2.mul`. */
  readonly mulV64: () => Body;
  /** `f64x2.extract_lane l`. */
  readonly lane64: (l: number) => Body;
  /** `f64.const x`. */
  readonly f64: (x: number) => Body;
  /** `f64.add`. */
  readonly addF64: () => Body;
  /** `f64.div`. */
  readonly divF64: () => Body;
  /** `f32.demote_f64`: round an f64 to the nearest f32. */
  readonly demote: () => Body;
  /**
   * `block (loop …body… (br_if 0 cond)) `: a do-while loop. `inner` emits the body; `cond` leaves an i32 that
   * is non-zero to repeat. Callers guarantee at least one trip.
   */
  readonly doWhile: (inner: () => void, cond: () => void) => Body;
  /** The encoded code-section entry (locals declaration + instructions + `end`). */
  readonly encode: () => number[];
}

/**
 * Starts a function body for a function with `nParams` i32 parameters.
 *
 * @category Networks
 */
export const body = (nParams: number): Body => {
  const locals: ValType[] = [];
  const code: number[] = [];
  const self: Body = {
    local: (t) => {
      locals.push(t);
      return nParams + locals.length - 1;
    },
    op: (...bytes) => {
      code.push(...bytes);
      return self;
    },
    get: (i) => self.op(0x20, ...uleb(i)),
    set: (i) => self.op(0x21, ...uleb(i)),
    i32: (n) => self.op(0x41, ...sleb(n)),
    add: () => self.op(0x6a),
    mul: () => self.op(0x6c),
    inc: (i, n) => self.get(i).i32(n).add().set(i),
    loadI32: (offset = 0) => self.op(0x28, ...memarg(2, offset)),
    loadF32: (offset = 0) => self.op(0x2a, ...memarg(2, offset)),
    storeF32: (offset = 0) => self.op(0x38, ...memarg(2, offset)),
    loadV: (offset = 0) => self.op(...simd(0x00), ...memarg(0, offset)),
    storeV: (offset = 0) => self.op(...simd(0x0b), ...memarg(0, offset)),
    splatLoad: (offset = 0) => self.op(...simd(0x09), ...memarg(2, offset)),
    zeroV: () => self.op(...simd(0x0c), ...new Array<number>(16).fill(0)),
    addV: () => self.op(...simd(0xe4)),
    mulV: () => self.op(...simd(0xe6)),
    lane: (l) => self.op(...simd(0x1f), l),
    addF: () => self.op(0x92),
    subV: () => self.op(...simd(0xe5)),
    pmaxV: () => self.op(...simd(0xeb)),
    geV: () => self.op(...simd(0x46)),
    absV: () => self.op(...simd(0xe0)),
    divV: () => self.op(...simd(0xe7)),
    bitselectV: () => self.op(...simd(0x52)),
    andV: () => self.op(...simd(0x4e)),
    addIV: () => self.op(...simd(0xae)),
    shlIV: () => self.op(...simd(0xab)),
    constV: (x) => self.op(...simd(0x0c), ...new Uint8Array(new Float32Array(4).fill(x).buffer)),
    constIV: (n) => self.op(...simd(0x0c), ...new Uint8Array(new Int32Array(4).fill(n).buffer)),
    splatV: () => self.op(...simd(0x13)),
    maxF: () => self.op(0x97),
    shuffle: (lanes) => self.op(...simd(0x0d), ...lanes),
    promoteLowV: () => self.op(...simd(0x5f)),
    addV64: () => self.op(...simd(0xf0)),
    mulV64: () => self.op(...simd(0xf2)),
    lane64: (l) => self.op(...simd(0x21), l),
    f64: (x) => self.op(0x44, ...new Uint8Array(new Float64Array([x]).buffer)),
    addF64: () => self.op(0xa0),
    divF64: () => self.op(0xa3),
    demote: () => self.op(0xb6),
    doWhile: (inner, cond) => {
      self.op(0x02, 0x40, 0x03, 0x40);
      inner();
      cond();
      return self.op(0x0d, 0x00, 0x0b, 0x0b);
    },
    encode: () => {
      const groups: number[] = [];
      let count = 0;
      for (let i = 0; i < locals.length; ) {
        let j = i;
        while (j < locals.length && locals[j] === locals[i]) j++;
        groups.push(...uleb(j - i), valTypeByte[locals[i]]);
        count++;
        i = j;
      }
      return vec([...uleb(count), ...groups, ...code, 0x0b]);
    },
  };
  return self;
};

/**
 * `i32.lt_u`: unsigned less-than, for pointer-bound loop conditions.
 *
 * @category Networks
 */
export const I32_LT_U = 0x49;

/**
 * Encodes a module that imports `env.memory` (at least `minPages` 64 KiB pages) and exports each function by
 * name. Every function takes `arity` i32 parameters and returns nothing. With `sharedMaxPages`, the imported
 * memory is a shared one of at most that many pages, which threads can run the same functions over
 * (WebAssembly threads proposal: limits flag 0x03 = shared with a maximum).
 *
 * @category Networks
 */
export const wasmModule = (
  functions: ReadonlyArray<{
    /** Export name. */
    readonly name: string;
    /** Number of i32 parameters. */
    readonly arity: number;
    /** The function body. */
    readonly body: Body;
  }>,
  minPages: number,
  sharedMaxPages?: number,
): Uint8Array<ArrayBuffer> => {
  const section = (id: number, content: number[]): number[] => [id, ...vec(content)];
  const arities = [...new Set(functions.map((f) => f.arity))];
  const types = arities.map((a) => [0x60, ...vec(new Array<number>(a).fill(0x7f)), 0x00]);
  const enc = (s: string): number[] => vec([...new TextEncoder().encode(s)]);
  const bytes = [
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...section(2, [
      ...uleb(1),
      ...enc("env"),
      ...enc("memory"),
      0x02,
      ...(sharedMaxPages === undefined
        ? [0x00, ...uleb(minPages)]
        : [0x03, ...uleb(minPages), ...uleb(sharedMaxPages)]),
    ]),
    ...section(3, [...uleb(functions.length), ...functions.flatMap((f) => uleb(arities.indexOf(f.arity)))]),
    ...section(7, [
      ...uleb(functions.length),
      ...functions.flatMap((f, i) => [...enc(f.name), 0x00, ...uleb(i)]),
    ]),
    ...section(10, [...uleb(functions.length), ...functions.flatMap((f) => f.body.encode())]),
  ];
  return new Uint8Array(bytes);
};

/**
 * The largest shared memory our modules accept: 65 536 pages of 64 KiB, all of wasm32's 4 GiB (a shared memory
 * must declare its maximum; engines reserve the address space, not the pages).
 *
 * @category Networks
 */
export const SHARED_MAX_PAGES = 65536;

/**
 * Whether `memory` is shared (its buffer a `SharedArrayBuffer`), so that a module over it must import a shared
 * memory.
 *
 * @category Networks
 */
export const isSharedMemory = (memory: WebAssembly.Memory): boolean =>
  typeof SharedArrayBuffer !== "undefined" && memory.buffer instanceof SharedArrayBuffer;

/**
 * A module's bytes in two variants — over an own memory, or over a shared one of at most
 * {@link SHARED_MAX_PAGES} pages — each encoded once, on first use.
 *
 * @category Networks
 */
export const moduleVariants = (
  encode: (sharedMaxPages: number | undefined) => Uint8Array<ArrayBuffer>,
): ((shared: boolean) => Uint8Array<ArrayBuffer>) => {
  const cache = new Map<boolean, Uint8Array<ArrayBuffer>>();
  return (shared) => {
    const hit = cache.get(shared);
    if (hit !== undefined) return hit;
    const bytes = encode(shared ? SHARED_MAX_PAGES : undefined);
    cache.set(shared, bytes);
    return bytes;
  };
};
