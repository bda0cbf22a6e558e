/**
 * The guide docs/guides/networks-and-backends.md must run exactly as written: its ```ts blocks, joined in order
 * with one blank line between them, are examples/networks-and-backends.ts verbatim; that file runs (with
 * `scoreflow` resolved to the sources) and prints the page's ```text blocks line for line; the printed numbers
 * hold the arithmetic the page claims (parameter counts by hand, the gradient against its central difference,
 * eq. 7 of Karras et al. 2022, the safetensors layout, the two CPU backends agreeing); and the figures it
 * quotes from docs/performance.md are there.
 */
import { describe, expect, it } from "vitest";
import {
  fencedBlocks,
  fencedLines,
  numbersIn,
  printedBeforeAll,
  printedLine,
  readRepoFile,
} from "../support/guide-page.js";

const page = readRepoFile("docs/guides/networks-and-backends.md");
const lines = printedBeforeAll("examples/networks-and-backends.ts");

/** The first printed line that starts (after spaces) with `prefix`. */
const printed = (prefix: string): string => printedLine(lines, prefix);

describe("guide: networks and backends", () => {
  it("shows examples/networks-and-backends.ts verbatim, section by section", () => {
    const blocks = fencedBlocks(page, "ts");
    expect(blocks.length).toBeGreaterThan(4);
    expect(blocks.join("\n")).toBe(readRepoFile("examples/networks-and-backends.ts"));
  });

  it("prints what the page says it prints", () => {
    expect(fencedLines(page, "text")).toEqual(lines);
  });

  it("counts the parameters: by hand for three modules, and a total that is the sum", () => {
    const count = (module: string) => numbersIn(printed(`${module} `)).at(-1)!;
    expect(count("conv_in")).toBe(16 * 1 * 9 + 16);
    expect(count("time_embedding")).toBe(64 * 16 + 64 + 64 * 64 + 64);
    expect(count("conv_out")).toBe(1 * 16 * 9 + 1);
    const modules = ["conv_in", "time_embedding", "mid_block", "conv_norm_out", "conv_out"];
    modules.push("down_blocks.0", "down_blocks.1", "up_blocks.0", "up_blocks.1");
    const [total, tensors] = numbersIn(printed("total"));
    expect(modules.reduce((sum, m) => sum + count(m), 0)).toBe(total);
    expect(tensors).toBe(144);
    const attention = lines.filter((l) => l.trimStart().startsWith("down_blocks.1.attentions.0"));
    const sizes = attention.map((l) => numbersIn(l.slice(l.indexOf("["))).reduce((p, d) => p * d, 1));
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(2 * 32 + 4 * (32 * 32 + 32));
  });

  it("checks the gradient: the central difference along −∇L/‖∇L‖ is ‖∇L‖, and ∂L/∂b_k ≈ 0", () => {
    const norm = numbersIn(printed("L = ")).at(-1)!;
    const slope = numbersIn(printed("central difference")).at(-1)!;
    expect(Math.abs(slope / norm - 1)).toBeLessThan(1e-3);
    expect(numbersIn(printed("largest |∂L/∂b|")).at(-1)!).toBeLessThan(1e-6 * norm);
  });

  it("prints EDM's coefficients (Karras et al. 2022, Table 1) and the wrapper equal to eq. 7", () => {
    const sigmaData = 0.5;
    const rows = lines.filter((l) => /^\s*(0\.002|0\.5|80)\s/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) {
      const [sigma, cSkip, cOut, cIn, cNoise, inputStd, gap] = numbersIn(row);
      const r = Math.hypot(sigma, sigmaData);
      expect(cSkip).toBeCloseTo(sigmaData ** 2 / r ** 2, 4);
      expect(cOut).toBeCloseTo((sigma * sigmaData) / r, 4);
      expect(cIn).toBeCloseTo(1 / r, 4);
      expect(cNoise).toBeCloseTo(Math.log(sigma) / 4, 4);
      expect(Math.abs(inputStd - 1)).toBeLessThan(0.15);
      expect(gap).toBeLessThan(1e-6);
    }
  });

  it("round-trips a checkpoint: 8 + header + 4 bytes per value, the same output, a refusal by name", () => {
    const file = lines.map((l) => /^(\d+) bytes: (\d+) float32 tensors, (\d+) of them/.exec(l)).find(Boolean);
    expect(file).toBeDefined();
    const [bytes, tensors, old] = file!.slice(1).map(Number);
    const total = numbersIn(printed("total"))[0];
    const header = bytes - 8 - 4 * total;
    expect(header).toBeGreaterThan(0);
    expect(header % 8).toBe(0);
    expect([tensors, old]).toEqual([144, 4 * 2 * 4]);
    expect(printed("loaded 144 tensors")).toContain("bit for bit: true");
    const refusal = printed("UNet2DModel checkpoint:");
    expect(refusal).toContain("missing (1): conv_out.bias");
    expect(refusal).toContain("conv_in.weight [16, 3, 3, 3] (expected [16, 1, 3, 3])");
  });

  it("reports the backends, refuses webgpu plainly, and finds webasm and cpu equal to float32 rounding", () => {
    expect(printed("auto ")).toContain("→ webasm, skipped webgpu");
    expect(printed("webgpu ")).toContain("is unavailable");
    expect(lines.some((l) => l.includes("webgpu kernels are asynchronous"))).toBe(true);
    const [output, outputScale] = numbersIn(printed("webasm vs cpu: output"));
    const [gradients, gradientScale] = numbersIn(printed("webasm vs cpu: gradients"));
    expect(output).toBeLessThan(1e-5 * outputScale);
    expect(gradients).toBeLessThan(1e-5 * gradientScale);
  });

  it("quotes docs/performance.md's conv figures as they are there", () => {
    const performance = readRepoFile("docs/performance.md").split("\n");
    const quoted = page.slice(
      page.indexOf("| 1×64×32×32, 3×3 conv"),
      page.indexOf("So `webasm` is the backend"),
    );
    const rows = quoted.split("\n").filter((l) => /^\| .*\| \d/.test(l));
    expect(rows).toHaveLength(3);
    for (const [row, impl] of rows.map(
      (r, k) => [r, ["wasm-simd", "gpujs-webasm", "gpujs-cpu"][k]] as const,
    )) {
      const source = performance.find((l) => l.startsWith("1×64×32×32, 3×3, s1") && l.includes(` ${impl} `));
      expect(source, impl).toBeDefined();
      const [fwd, fwdRate, bwd, bwdRate] = numbersIn(row.slice(row.lastIndexOf("`") + 1));
      const figures = numbersIn(source!.slice(source!.indexOf(impl) + impl.length));
      expect([figures[0], figures[1], figures.at(-3), figures.at(-2)]).toEqual([fwd, fwdRate, bwd, bwdRate]);
    }
  });
});
