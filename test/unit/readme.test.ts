/**
 * The README's library example must run exactly as written: this test extracts the first ```ts block after the
 * "Example" heading, writes it beside this file with `scoreflow` resolved to the sources, and runs it.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const here = dirname(fileURLToPath(import.meta.url));
const readme = readFileSync(join(here, "../../README.md"), "utf8");
const exampleFile = join(here, "readme-example.generated.ts");

describe("README example", () => {
  afterAll(() => rmSync(exampleFile, { force: true }));

  it("runs as written and prints what the README says it prints", async () => {
    const section = readme.slice(readme.indexOf("## Example"));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code, "README has a ```ts block under ## Example").toBeDefined();
    writeFileSync(exampleFile, code!.replaceAll('from "scoreflow"', 'from "../../src/index.js"'));
    const lines: string[] = [];
    const log = console.log;
    console.log = (...args: unknown[]) => lines.push(args.join(" "));
    try {
      await import(exampleFile);
    } finally {
      console.log = log;
    }
    const printed = /```text\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    // Every printed line appears in the README's output block (numbers included: the example is seeded).
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(printed).toContain(line);
  });
});
