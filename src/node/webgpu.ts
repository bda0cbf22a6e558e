/**
 * WebGPU for Node: Google's Dawn through the `webgpu` package (the one GPU.js itself depends on), installed as
 * `navigator.gpu` so that `createBackend("webgpu")`, `forwardNetworkWebgpu` and GPU.js find it as in a browser.
 *
 * Two things Dawn's Node binding needs: its WebGPU classes as globals (GPU.js checks `instanceof` against
 * them), and a `GPUDevice.onuncapturederror` that accepts assignment — GPU.js assigns a handler, which the
 * binding (0.2.9) rejects as «object is not of the correct interface type». Here the assignment registers the
 * handler as an `uncapturederror` event listener instead, so uncaptured errors are still reported.
 *
 * The binding is a native module built against glibc 2.38 and GLIBCXX 3.4.32: it loads on Ubuntu 24.04, not on
 * Debian 12, where {@link installDawn} is a Left that says so.
 *
 * Source: dawn-gpu/node-webgpu README (`create`, `globals`); W3C WebGPU, `GPUDevice` events.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";

/** What the `webgpu` package exports. */
interface DawnModule {
  readonly create: (options: string[]) => unknown;
  readonly globals: Record<string, unknown>;
}

/** The slice of `GPUDevice.prototype` the handler shim touches. */
interface DevicePrototype {
  addEventListener?: (type: string, listener: unknown) => void;
}

/**
 * Installs Dawn as `navigator.gpu` in this process (once; later calls answer the same). Resolves to the
 * adapter's name, or a Left naming why there is none: the binding does not load here (the loader's message,
 * e.g. a missing glibc version), or no adapter answers (no GPU, or no Vulkan driver: on NVIDIA, point
 * `VK_DRIVER_FILES` at the driver's ICD file).
 *
 * @category I/O
 */
export const installDawn = async (): Promise<E.Either<ScoreflowError, string>> => {
  const context = "webgpu (Dawn)";
  const scope = globalThis as { navigator?: { gpu?: unknown } };
  if (scope.navigator === undefined) scope.navigator = {};
  const nav = scope.navigator;
  if (nav.gpu === undefined) {
    let dawn: DawnModule;
    try {
      dawn = (await import("webgpu")) as unknown as DawnModule;
    } catch (e) {
      return E.left(
        scoreflowError(
          context,
          "binding",
          "webgpu",
          `does not load here: ${(e as Error).message.split("\n")[0]}`,
        ),
      );
    }
    Object.assign(globalThis, dawn.globals);
    const device = (dawn.globals.GPUDevice as { prototype: DevicePrototype } | undefined)?.prototype;
    if (device !== undefined)
      Object.defineProperty(device, "onuncapturederror", {
        configurable: true,
        get: () => null,
        set(this: DevicePrototype, listener: unknown) {
          this.addEventListener?.("uncapturederror", listener);
        },
      });
    Object.defineProperty(nav, "gpu", { value: dawn.create([]), configurable: true });
  }
  const gpu = nav.gpu as { requestAdapter(): Promise<{ info?: Record<string, string> } | null> };
  try {
    const adapter = await gpu.requestAdapter();
    if (adapter === null)
      return E.left(scoreflowError(context, "adapter", null, "none answered (no GPU or no Vulkan driver)"));
    const info = adapter.info ?? {};
    const name = [info.vendor, info.architecture, info.description].filter(
      (p) => p !== undefined && p !== "",
    );
    return E.right(name.length > 0 ? name.join(" ") : "an unnamed adapter");
  } catch (e) {
    return E.left(
      scoreflowError(context, "adapter", null, `requestAdapter() failed: ${(e as Error).message}`),
    );
  }
};
