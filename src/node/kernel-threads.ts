/**
 * Helper threads for the WebAssembly micro-kernels in Node: `worker_threads` that each instantiate the
 * micro-kernels over one shared memory and wait on a shared control block. The calling thread starts a call by
 * writing its arguments and bumping a sequence number (`Atomics.notify`), and waits for the helper's done
 * number (`Atomics.wait`), so the network ops stay synchronous. Node lets its main thread block this way;
 * browsers do not, which is why this lives here.
 *
 * Control block: 16 int32 per helper — [0] sequence of the last started call, [1] sequence of the last finished
 * one, [2] kernel index (−1: exit), [3] argument count, [4…11] arguments, [12] 1 when the last call threw.
 *
 * @module
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { SHARED_MAX_PAGES } from "../nets/wasm/assembler.js";
import { MICRO_KERNEL_NAMES, microKernelsModule } from "../nets/wasm/micro-kernels.js";
import type { KernelThreads } from "../nets/wasm/threads.js";

const SLOT = 16;
const [SEQ, DONE, KERNEL, ARGC, ARGS, FAILED] = [0, 1, 2, 3, 4, 12];

/** The helper's whole program (run with `eval`, so that it needs no file next to the compiled one). */
const HELPER = `
const { workerData } = require("node:worker_threads");
const { bytes, memory, control, slot, names } = workerData;
const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports;
const ctl = new Int32Array(control);
const base = slot * ${SLOT};
let seen = 0;
for (;;) {
  Atomics.wait(ctl, base + ${SEQ}, seen);
  seen = Atomics.load(ctl, base + ${SEQ});
  const k = ctl[base + ${KERNEL}];
  if (k < 0) break;
  try {
    kernels[names[k]](...ctl.subarray(base + ${ARGS}, base + ${ARGS} + ctl[base + ${ARGC}]));
    ctl[base + ${FAILED}] = 0;
  } catch {
    ctl[base + ${FAILED}] = 1;
  }
  Atomics.store(ctl, base + ${DONE}, seen);
  Atomics.notify(ctl, base + ${DONE});
}
`;

/**
 * The number of helpers that uses every core: `os.availableParallelism() − 1` (the calling thread is the last
 * one).
 *
 * @category Networks
 */
export const defaultHelpers = (): number => availableParallelism() - 1;

/**
 * Starts `helpers` threads for the micro-kernels (see the module documentation); 0 is allowed (no thread,
 * every call on the caller). A Left when `helpers` is not a non-negative integer or the platform lacks shared
 * WebAssembly memory. Stop them with `dispose`; they do not keep the process alive meanwhile.
 *
 * @category Networks
 */
export const createKernelThreads = (helpers: number): E.Either<ScoreflowError, KernelThreads> => {
  if (!Number.isInteger(helpers) || helpers < 0)
    return E.left(scoreflowError("kernel threads", "helpers", helpers, "must be an integer ≥ 0"));
  let memory: WebAssembly.Memory;
  try {
    memory = new WebAssembly.Memory({ initial: 1, maximum: SHARED_MAX_PAGES, shared: true });
  } catch (e) {
    return E.left(
      scoreflowError("kernel threads", "memory", "shared", `is unavailable here (${(e as Error).message})`),
    );
  }
  const control = new SharedArrayBuffer(Math.max(1, helpers) * SLOT * 4);
  const ctl = new Int32Array(control);
  const bytes = microKernelsModule(true);
  const workers = Array.from({ length: helpers }, (_, slot) => {
    const worker = new Worker(HELPER, {
      eval: true,
      workerData: { bytes, memory, control, slot, names: MICRO_KERNEL_NAMES },
    });
    worker.unref();
    return worker;
  });
  const post = (h: number, kernel: number, args: readonly number[]): void => {
    const base = h * SLOT;
    ctl[base + KERNEL] = kernel;
    ctl[base + ARGC] = args.length;
    ctl.set(args, base + ARGS);
    Atomics.add(ctl, base + SEQ, 1);
    Atomics.notify(ctl, base + SEQ);
  };
  return E.right({
    helpers,
    memory,
    start: (h, kernel, args) => post(h, MICRO_KERNEL_NAMES.indexOf(kernel), args),
    wait: (h) => {
      const base = h * SLOT;
      const started = Atomics.load(ctl, base + SEQ);
      for (let done = Atomics.load(ctl, base + DONE); done !== started; done = Atomics.load(ctl, base + DONE))
        Atomics.wait(ctl, base + DONE, done);
      return ctl[base + FAILED] === 0;
    },
    dispose: async () => {
      for (let h = 0; h < helpers; h++) post(h, -1, []);
      await Promise.all(workers.map((w) => w.terminate()));
    },
  });
};
