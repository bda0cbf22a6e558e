/**
 * The README's library example must run exactly as written: its ```ts block under "## Example" is the file
 * examples/custom-sde.ts verbatim, that file runs (with `scoreflow` resolved to the sources), and every line it
 * prints appears in the README's output block.
 */
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const readme = readFileSync(join(root, "README.md"), "utf8");
const section = readme.slice(readme.indexOf("## Example"));

describe("README example", () => {
  it("shows examples/custom-sde.ts verbatim", () => {
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBe(readFileSync(join(root, "examples/custom-sde.ts"), "utf8"));
  });

  it("runs and prints what the README says it prints", async () => {
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      await import("../../examples/custom-sde.js");
    } finally {
      console.log = log;
    }
    const printed = /```text\n([\s\S]*?)```/.exec(section)?.[1];
    expect(printed?.trimEnd().split("\n")).toEqual(lines);
  });
});
