/**
 * The command line as a user meets it: bad input gives one sentence and exit code 2, nothing on disk is replaced
 * without --force, and the quick demo → sample → info → likelihood path works end to end on its own outputs.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const run = (...args: string[]) => {
  const r = spawnSync(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
    encoding: "utf8",
    env: { ...process.env, FORCE_COLOR: "0" },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** A user error: exit 2, a message, and no stack trace. */
const expectUserError = (r: ReturnType<typeof run>, pattern: RegExp) => {
  expect(r.code).toBe(2);
  expect(r.err).toMatch(pattern);
  expect(r.err).not.toMatch(/\n\s+at /);
};

describe("scoreflow command line: bad input", () => {
  it("unknown flags and commands exit 2 with commander's one-line message", () => {
    expectUserError(run("demo", "--nope"), /unknown option '--nope'/);
    expectUserError(run("frobnicate"), /unknown command 'frobnicate'/);
  });

  it("invalid values exit 2 naming the flag", () => {
    expectUserError(
      run("train", "--data", "checkerboard", "--steps", "0"),
      /--steps.*must be an integer ≥ 1/,
    );
    expectUserError(
      run("train", "--data", "checkerboard", "--sde", "foo", "--out", join(tmpdir(), "x")),
      /--sde must be one of/,
    );
    expectUserError(run("sample", "--model", "x", "--sampler", "euler"), /--sampler must be one of/);
    expectUserError(run("info", "--threads", "0"), /--threads.*must be an integer ≥ 1/);
    expectUserError(
      run(
        "demo",
        "--quick",
        "--backend",
        "webgpu",
        "--out",
        join(mkdtempSync(join(tmpdir(), "sf-gpu-")), "demo"),
      ),
      /--backend webgpu serves sample, train and info; demo and likelihood need the synchronous ops/,
    );
    expectUserError(
      run("demo", "--toy", "spiral", "--out", join(tmpdir(), "sf-none")),
      /--toy must be one of/,
    );
  });

  it("missing and corrupt files are one sentence", () => {
    const dir = mkdtempSync(join(tmpdir(), "sf-cli-"));
    expectUserError(run("sample", "--model", join(dir, "absent")), /--model .*absent.*state\.json/);
    writeFileSync(join(dir, "state.json"), "{ not json");
    expectUserError(run("sample", "--model", dir), /must be valid JSON/);
    expectUserError(run("train", "--data", join(dir, "no-pngs")), /--data must be a toy/);
  });
});

describe("scoreflow command line: the quick demo and what it leaves", () => {
  const dir = mkdtempSync(join(tmpdir(), "sf-demo-"));
  const out = join(dir, "demo");

  it("demo --quick writes the gallery, one picture per sampler, a report and a loadable model", () => {
    const r = run("demo", "--quick", "--out", out);
    expect(r.code, r.err).toBe(0);
    const report = JSON.parse(readFileSync(join(out, "report.json"), "utf8"));
    expect(report.samplers.map((s: { family: string }) => s.family)).toEqual([
      "ddpm",
      "ddim",
      "reverse-sde",
      "pc",
      "pf-heun",
      "pf-rk45",
      "edm",
      "dpmpp-2m",
    ]);
    for (const s of report.samplers) {
      expect(existsSync(join(out, `sampler-${s.family}.png`))).toBe(true);
      expect(Number.isFinite(s.sw2) && s.nfe >= 1).toBe(true);
    }
    for (const f of [
      "gallery.png",
      "forward.png",
      "data.png",
      "report.md",
      "train.jsonl",
      "model/state.json",
    ])
      expect(existsSync(join(out, f)), f).toBe(true);
  }, 120_000);

  it("refuses to replace the demo's directory without --force", () => {
    expectUserError(run("demo", "--quick", "--out", out), /already exists; add --force/);
  });

  it("samples the demo's model into a PNG, and refuses to overwrite it", () => {
    const png = join(dir, "s.png");
    const r = run(
      "sample",
      "--model",
      join(out, "model"),
      "--sampler",
      "ddim",
      "--steps",
      "5",
      "--n",
      "50",
      "--out",
      png,
    );
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/50 samples, DDIM.*NFE 5/);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
    expectUserError(run("sample", "--model", join(out, "model"), "--out", png), /already exists/);
  }, 60_000);

  it("samples the shipped MNIST model (an exported model file) into a grid of digits", () => {
    const png = join(dir, "digits.png");
    const r = run("sample", "--model", "mnist", "--steps", "2", "--n", "4", "--out", png);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/4 samples, EDM Heun.*NFE 3/);
    expect(readFileSync(png).subarray(1, 4).toString()).toBe("PNG");
    // The same digits, byte for byte, on one thread (the products are split by rows, never re-associated).
    const one = join(dir, "digits-one-thread.png");
    expect(
      run("sample", "--model", "mnist", "--steps", "2", "--n", "4", "--out", one, "--threads", "1").code,
    ).toBe(0);
    expect(readFileSync(one).equals(readFileSync(png))).toBe(true);
    // On the GPU through Dawn where its binding loads and an adapter answers (the same digits to float32
    // round-off); elsewhere one sentence that says why, e.g. the glibc Dawn needs (Debian 12 has 2.36).
    const onGpu = run(
      "sample",
      "--model",
      "mnist",
      "--steps",
      "2",
      "--n",
      "4",
      "--out",
      join(dir, "gpu.png"),
      "--backend",
      "webgpu",
    );
    if (onGpu.code === 0) expect(onGpu.out).toMatch(/4 samples, EDM Heun.*NFE 3/);
    else expectUserError(onGpu, /--backend webgpu: webgpu \(Dawn\): (binding does not load here|adapter)/);
    const info = run("info", "--model", "mnist", "--threads", "2");
    expect(info.out).toMatch(/^backend: webasm, 2 threads \(requested auto\)/);
    expect(info.out).toMatch(/UNet2DModel, 651,041 parameters/);
    expect(info.out).toMatch(/by: npx scoreflow train --data mnist16/);
  }, 60_000);

  it("info describes the model; likelihood reports nats/dim next to the data's entropy", () => {
    const info = run("info", "--model", join(out, "model"));
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/MLP, [\d,]+ parameters/);
    const ll = run("likelihood", "--model", join(out, "model"), "--n", "20");
    expect(ll.code, ll.err).toBe(0);
    expect(ll.out).toMatch(/negative log-likelihood: [\d.]+ ± [\d.]+ nats\/dim/);
    expect(ll.out).toMatch(/entropy.*1\.7329 nats\/dim/);
  }, 60_000);
});
