/**
 * The README's library example must run exactly as written: its ```ts block under "## Example" is the file
 * examples/custom-sde.ts verbatim, that file runs (with `scoreflow` resolved to the sources), and every line it
 * prints appears in the README's output block.
 */
import { describe, expect, it } from "vitest";
import { fencedBlocks, readRepoFile, runExample } from "../support/guide-page.js";

const readme = readRepoFile("README.md");
const section = readme.slice(readme.indexOf("## Example"));

describe("README example", () => {
  it("shows examples/custom-sde.ts verbatim", () => {
    const code = fencedBlocks(section, "ts").at(0);
    expect(code).toBe(readRepoFile("examples/custom-sde.ts"));
  });

  it("runs and prints what the README says it prints", async () => {
    const lines = await runExample("examples/custom-sde.ts");
    const printed = fencedBlocks(section, "text").at(0);
    expect(printed?.trimEnd().split("\n")).toEqual(lines);
  });
});
