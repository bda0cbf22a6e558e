/**
 * The likelihoods guide must run exactly as written: its ```ts blocks, in order and joined by one blank line, are
 * the file examples/likelihoods.ts verbatim; that file runs (with `scoreflow` resolved to the sources); and the
 * lines it prints are the page's ```text blocks, in order, line for line.
 */
import { describe, expect, it } from "vitest";
import { fencedBlocks, fencedLines, readRepoFile, runExample } from "../support/guide-page.js";

const page = readRepoFile("docs/guides/likelihoods.md");

describe("guide: likelihoods", () => {
  it("shows examples/likelihoods.ts verbatim, section by section", () => {
    const blocks = fencedBlocks(page, "ts");
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.join("\n")).toBe(readRepoFile("examples/likelihoods.ts"));
  });

  it("runs and prints what the page says it prints", async () => {
    const lines = await runExample("examples/likelihoods.ts");
    expect(fencedLines(page, "text")).toEqual(lines);
  });
});
