/**
 * The likelihoods guide must run exactly as written: its ```ts blocks, in order and joined by one blank line, are
 * the file examples/likelihoods.ts verbatim; that file runs (with `scoreflow` resolved to the sources); and the
 * lines it prints are the page's ```text blocks, in order, line for line.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const page = readFileSync(join(root, "docs/guides/likelihoods.md"), "utf8");

/** The bodies of the page's fenced blocks of one language, in order (each ends with its last newline). */
const fenced = (language: string): string[] =>
  Array.from(page.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g")), (match) => match[1]);

describe("guide: likelihoods", () => {
  it("shows examples/likelihoods.ts verbatim, section by section", () => {
    const blocks = fenced("ts");
    expect(blocks.length).toBeGreaterThan(1);
    expect(blocks.join("\n")).toBe(readFileSync(join(root, "examples/likelihoods.ts"), "utf8"));
  });

  it("runs and prints what the page says it prints", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      await import("../../examples/likelihoods.js");
    } finally {
      console.log = log;
    }
    const printed = fenced("text").flatMap((block) => block.trimEnd().split("\n"));
    expect(printed).toEqual(lines);
  });
});
