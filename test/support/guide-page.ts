/**
 * Shared machinery for the tests that hold a documentation page to the example program it embeds: reading a
 * page, taking its fenced blocks, running the example while catching what it prints, and finding printed lines
 * and the numbers in them. Used by the guide tests and the README test.
 *
 * @module
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect } from "vitest";

/** The repository's root directory. */
export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");

/** The text of a file of the repository, by its path from the root (e.g. "docs/guides/likelihoods.md"). */
export const readRepoFile = (path: string): string => readFileSync(join(root, path), "utf8");

/** The bodies of a page's fenced blocks of one language, in order (each ends with its last newline). */
export const fencedBlocks = (page: string, language: string): string[] =>
  Array.from(page.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, "g")), (match) => match[1]);

/** The lines of a page's fenced blocks of one language, block after block, each without its trailing newlines. */
export const fencedLines = (page: string, language: string): string[] =>
  fencedBlocks(page, language).flatMap((block) => block.trimEnd().split("\n"));

/**
 * Runs an example (by its path from the root, e.g. "examples/likelihoods.ts", with `scoreflow` resolved to the
 * sources by the vitest config) with `extraArgs` appended to `process.argv`, and returns the lines it prints
 * with `console.log` (arguments joined by a space, split at newlines). `console.log` and `process.argv` are put
 * back afterwards, even when the example throws.
 */
export const runExample = async (path: string, extraArgs: readonly string[] = []): Promise<string[]> => {
  const lines: string[] = [];
  const [argv, log] = [process.argv, console.log];
  process.argv = [...argv, ...extraArgs];
  console.log = (...args: unknown[]) => lines.push(...args.join(" ").split("\n"));
  try {
    await import(join(root, path));
  } finally {
    process.argv = argv;
    console.log = log;
  }
  return lines;
};

/**
 * Runs an example as `runExample` does, once, before the test file's tests (in a `beforeAll` hook allowed 60 s),
 * and returns the array that its printed lines fill by then.
 */
export const printedBeforeAll = (path: string, extraArgs: readonly string[] = []): readonly string[] => {
  const lines: string[] = [];
  beforeAll(async () => {
    lines.push(...(await runExample(path, extraArgs)));
  }, 60_000);
  return lines;
};

/** A fresh temporary directory whose name starts with `prefix`, removed after the test file's tests. */
export const temporaryDirectory = (prefix: string): string => {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  afterAll(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
};

/**
 * The printed line `offset` lines after the first one that starts (after spaces) with `prefix`; the test fails
 * when no line does.
 */
export const printedLine = (lines: readonly string[], prefix: string, offset = 0): string => {
  const k = lines.findIndex((line) => line.trimStart().startsWith(prefix));
  expect(k, `a printed line starting with "${prefix}"`).toBeGreaterThanOrEqual(0);
  return lines[k + offset];
};

/** Every number in a line, in order ("5.453e-1" is one number). */
export const numbersIn = (line: string): number[] =>
  Array.from(line.matchAll(/-?\d+(?:\.\d+)?(?:e[-+]?\d+)?/g), (match) => Number(match[0]));
