/**
 * What the browser tests share: Debian's Chromium driven by playwright-core, a Vite build of a page with the
 * playground's configuration (its minifier included), and a static server on 127.0.0.1 (a secure context, as
 * WebGPU and WebCrypto require).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium } from "playwright-core";
import { build } from "vite";

/** The repository's root. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The Chromium binary: $CHROMIUM_PATH, else Debian's. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, with how to fix it, or "" when Chromium is present. */
export const chromiumMissing = (): string =>
  existsSync(CHROMIUM)
    ? ""
    : `Chromium is not installed at ${CHROMIUM}: the browser tests need it. On Debian or Ubuntu run ` +
      "`sudo apt-get install -y chromium` (or point CHROMIUM_PATH at a Chromium or Chrome binary).";

/** Headless, sandbox off (containers), no background traffic; `extra` adds flags. */
export const launchChromium = (extra: readonly string[] = []): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      ...extra,
    ],
  });

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript",
  ".css": "text/css",
  ".json": "application/json",
  ".png": "image/png",
};

/** A served build: its URL, and `close` to stop the server and delete the build. */
export interface ServedBuild {
  /** The page's URL on 127.0.0.1. */
  readonly url: string;
  /** Stops the server and removes the build directory. */
  readonly close: () => Promise<void>;
}

/** A static file server for `dir` on 127.0.0.1. */
const serve = async (dir: string): Promise<{ readonly server: Server; readonly url: string }> => {
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? "/", "http://127.0.0.1").pathname);
    const file = normalize(join(dir, path.endsWith("/") ? `${path}index.html` : path));
    if (!file.startsWith(dir + sep)) {
      response.writeHead(403).end();
      return;
    }
    readFile(file).then(
      (body) =>
        response
          .writeHead(200, {
            "content-type": TYPES[extname(file)] ?? "application/octet-stream",
            // cross-origin isolation, as web/vite.config.ts serves the playground (SharedArrayBuffer)
            "cross-origin-opener-policy": "same-origin",
            "cross-origin-embedder-policy": "require-corp",
          })
          .end(body),
      () => response.writeHead(404).end(),
    );
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
};

/**
 * Builds the page whose index.html is in `root` (default: the playground, web/) with web/vite.config.ts into a
 * temporary directory, and serves it.
 */
export const buildAndServe = async (root?: string): Promise<ServedBuild> => {
  const outDir = await mkdtemp(join(tmpdir(), "scoreflow-page-"));
  await build({
    configFile: join(ROOT, "web", "vite.config.ts"),
    logLevel: "warn",
    ...(root === undefined ? {} : { root }),
    build: { outDir, emptyOutDir: true },
  });
  const { server, url } = await serve(resolve(outDir));
  return {
    url,
    close: async () => {
      await new Promise((done) => server.close(done));
      await rm(outDir, { recursive: true, force: true });
    },
  };
};
