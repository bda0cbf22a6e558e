/**
 * A blocking model call across threads: the sampling worker (where `Atomics.wait` is allowed) asks the page's
 * main thread for a model evaluation through a `SharedArrayBuffer` and sleeps until the answer is written; the
 * main thread answers asynchronously (a network on the GPU). The synchronous samplers then run unchanged in the
 * worker, each evaluation exactly once, without the replays of `asyncModelSteps`. Needs cross-origin isolation
 * (`crossOriginIsolated`: the COOP and COEP headers the Vite server and the test server send).
 *
 * Layout: int32 [state, unused], float64 [parameter], float32 [x (length) | answer (length)]; state 0 idle,
 * 1 a request is waiting, 2 its answer is written. The model's kind (denoiser or time model) is the same on both
 * sides, so a request is its batch and its scalar (σ or t).
 *
 * @module
 */

/** The shared state of one sampling run: its buffer, views and the length of one batch. */
export interface Bridge {
  /** The buffer, sent to the worker. */
  readonly buffer: SharedArrayBuffer;
  /** [state, unused]. */
  readonly control: Int32Array;
  /** The call's scalar: σ for a denoiser, t for a time model. */
  readonly parameter: Float64Array;
  /** The batch, then the answer. */
  readonly data: Float32Array;
  /** Values in one batch. */
  readonly length: number;
}

const [IDLE, REQUEST, ANSWER] = [0, 1, 2];

/** The views of `buffer` for batches of `length` values. */
export const bridgeOf = (buffer: SharedArrayBuffer, length: number): Bridge => ({
  buffer,
  control: new Int32Array(buffer, 0, 2),
  parameter: new Float64Array(buffer, 8, 1),
  data: new Float32Array(buffer, 16, 2 * length),
  length,
});

/** A fresh bridge for batches of `length` values. */
export const createBridge = (length: number): Bridge =>
  bridgeOf(new SharedArrayBuffer(16 + 8 * length), length);

/** The worker's side: writes the request, wakes the main thread and sleeps until the answer is there. */
export const blockingCall = (bridge: Bridge, x: Float32Array, parameter: number): Float32Array => {
  const { control, data, length } = bridge;
  data.set(x, 0);
  bridge.parameter[0] = parameter;
  Atomics.store(control, 0, REQUEST);
  Atomics.notify(control, 0);
  while (Atomics.load(control, 0) === REQUEST) Atomics.wait(control, 0, REQUEST);
  const answer = data.slice(length, 2 * length);
  Atomics.store(control, 0, IDLE);
  Atomics.notify(control, 0);
  return answer;
};

/** `Atomics.waitAsync` (ES2024), which the page's TypeScript library does not declare yet; see {@link canServe}. */
const waitAsync = (
  Atomics as unknown as {
    waitAsync: (
      a: Int32Array,
      index: number,
      value: number,
      timeout: number,
    ) => { readonly async: boolean; readonly value: Promise<string> | string };
  }
).waitAsync;

/** Whether this browser can serve a bridge: `Atomics.waitAsync` exists (not yet in every engine). */
export const canServe = (): boolean => typeof (Atomics as { waitAsync?: unknown }).waitAsync === "function";

/**
 * The main thread's side: answers every request with `answer` until `running()` turns false (checked at least
 * every 100 ms). Never blocks the thread.
 */
export const serve = async (
  bridge: Bridge,
  answer: (x: Float32Array, parameter: number) => Promise<Float32Array>,
  running: () => boolean,
): Promise<void> => {
  const { control, data, length } = bridge;
  while (running()) {
    const state = Atomics.load(control, 0);
    if (state === REQUEST) {
      const y = await answer(data.slice(0, length), bridge.parameter[0]);
      data.set(y, length);
      Atomics.store(control, 0, ANSWER);
      Atomics.notify(control, 0);
      continue;
    }
    const waited = waitAsync(control, 0, state, 100);
    if (waited.async) await waited.value;
  }
};
