/**
 * The guide docs/guides/one-sde-every-sampler.md must run exactly as written: its ```ts blocks, joined in order
 * with one blank line between them, are the file examples/one-sde-every-sampler.ts verbatim (so no line of the
 * example is hidden from the reader); that file runs (with `scoreflow` resolved to the sources) and prints, line
 * for line, the page's ```text blocks in order; and the page's excerpt of docs/samplers.md is quoted from it
 * verbatim, so that it cannot drift from the benchmark it cites.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const page = readFileSync(join(root, "docs/guides/one-sde-every-sampler.md"), "utf8");
const fenced = (lang: string): string[] =>
  Array.from(page.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, "g")), (m) => m[1]);

describe("guide: one SDE, every sampler", () => {
  it("shows examples/one-sde-every-sampler.ts in full and in order", () => {
    const blocks = fenced("ts");
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.join("\n")).toBe(readFileSync(join(root, "examples/one-sde-every-sampler.ts"), "utf8"));
  });

  it("runs and prints what the page says it prints", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      await import("../../examples/one-sde-every-sampler.js");
    } finally {
      console.log = log;
    }
    const printed = fenced("text").join("").trimEnd().split("\n");
    expect(printed).toEqual(lines.join("\n").split("\n"));
  });

  it("quotes docs/samplers.md verbatim and links it", () => {
    const benchmark = readFileSync(join(root, "docs/samplers.md"), "utf8").split("\n");
    const excerpt = page.slice(page.indexOf("## 7. Error against NFE"), page.indexOf("## Where to go next"));
    const rows = excerpt.split("\n").filter((line) => line.startsWith("| "));
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows) expect(benchmark).toContain(row);
    expect(excerpt).toContain("](../samplers.md)");
  });
});
