/**
 * Vite configuration of the playground (web/): `vite web` serves it, `vite build web` writes web/dist. The page
 * imports the library by its package name, mapped to the sources as in vitest.config.ts; the exported
 * checkerboard model (models/checkerboard/, written by `scoreflow export`) ships with the page as two hashed
 * assets when it exists, through the virtual module `virtual:shipped-model` (`undefined` when it does not).
 * PLAYGROUND_MODEL_DIR=<dir> ships another exported 2-D model instead.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin, searchForWorkspaceRoot } from "vite";

const MODEL = "virtual:shipped-model";
const MODEL_DIR =
  process.env.PLAYGROUND_MODEL_DIR ?? fileURLToPath(new URL("../models/checkerboard", import.meta.url));
const FILES = ["model.json", "weights.safetensors"].map((f) => resolve(MODEL_DIR, f));

/** The checkerboard model's two files as asset URLs, or `undefined` when it is not exported yet. */
const shippedModel = (): Plugin => ({
  name: "scoreflow-shipped-model",
  resolveId: (id) => (id === MODEL ? `\0${MODEL}` : undefined),
  load: (id) => {
    if (id !== `\0${MODEL}`) return undefined;
    if (!FILES.every((f) => existsSync(f))) return "export default undefined;";
    const [manifest, weights] = FILES.map((f) => JSON.stringify(`${f}?url`));
    return `import manifest from ${manifest};\nimport weights from ${weights};\nexport default { manifest, weights };\n`;
  },
});

/**
 * Cross-origin isolation (COOP + COEP), which SharedArrayBuffer and so the sampling worker's blocking model calls
 * need; a host that does not send them gets the page without the worker (sampling on the GPU then replays).
 */
const ISOLATION = {
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Embedder-Policy": "require-corp",
};

export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  base: "./",
  resolve: { alias: { scoreflow: fileURLToPath(new URL("../src/index.ts", import.meta.url)) } },
  plugins: [shippedModel()],
  // The dev server may read the repository and the model's directory (which PLAYGROUND_MODEL_DIR may move).
  server: {
    fs: { allow: [searchForWorkspaceRoot(fileURLToPath(new URL(".", import.meta.url))), MODEL_DIR] },
    headers: ISOLATION,
  },
  preview: { headers: ISOLATION },
  // The sampling worker imports the library: an ES module worker.
  worker: { format: "es" },
  build: {
    // GPU.js compiles kernels from their source text (Function.prototype.toString) and keys variable types by
    // name; a mangler that lets an inner variable shadow an outer one under the same short name breaks that
    // (webgl2: «Unhandled binary expression between Array & Number»). So: compress, but keep the names.
    rolldownOptions: { output: { minify: { compress: true, mangle: false } } },
    // The model files stay files (no data: URLs), and the library with gpu.js is one ~700 kB chunk.
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1024,
  },
});
