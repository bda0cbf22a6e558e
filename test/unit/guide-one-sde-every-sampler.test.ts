/**
 * The guide docs/guides/one-sde-every-sampler.md must run exactly as written: its ```ts blocks, joined in order
 * with one blank line between them, are the file examples/one-sde-every-sampler.ts verbatim (so no line of the
 * example is hidden from the reader); that file runs (with `scoreflow` resolved to the sources) and prints, line
 * for line, the page's ```text blocks in order; and the page's excerpt of docs/samplers.md is quoted from it
 * verbatim, so that it cannot drift from the benchmark it cites.
 */
import { describe, expect, it } from "vitest";
import { fencedBlocks, readRepoFile, runExample } from "../support/guide-page.js";

const page = readRepoFile("docs/guides/one-sde-every-sampler.md");

describe("guide: one SDE, every sampler", () => {
  it("shows examples/one-sde-every-sampler.ts in full and in order", () => {
    const blocks = fencedBlocks(page, "ts");
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.join("\n")).toBe(readRepoFile("examples/one-sde-every-sampler.ts"));
  });

  it("runs and prints what the page says it prints", async () => {
    const lines = await runExample("examples/one-sde-every-sampler.ts");
    const printed = fencedBlocks(page, "text").join("").trimEnd().split("\n");
    expect(printed).toEqual(lines.join("\n").split("\n"));
  });

  it("quotes docs/samplers.md verbatim and links it", () => {
    const benchmark = readRepoFile("docs/samplers.md").split("\n");
    const excerpt = page.slice(page.indexOf("## 7. Error against NFE"), page.indexOf("## Where to go next"));
    const rows = excerpt.split("\n").filter((line) => line.startsWith("| "));
    expect(rows.length).toBeGreaterThanOrEqual(8);
    for (const row of rows) expect(benchmark).toContain(row);
    expect(excerpt).toContain("](../samplers.md)");
  });
});
