/**
 * How the command line fails: one sentence on stderr and exit code 2, never a stack trace. Every error of the
 * library (a ScoreflowError or a solver's failure) carries its one-sentence `message`.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";

/** A failure the user can act on: the sentence to print. */
export interface CliFailure {
  /** Discriminant. */
  readonly _tag: "CliFailure";
  /** One sentence. */
  readonly message: string;
}

/** The exit code of every user error (bad flags, values, files). */
export const USAGE_EXIT_CODE = 2;

/** A failure from a sentence. */
export const cliFailure = (message: string): CliFailure => ({ _tag: "CliFailure", message });

const isCliFailure = (e: unknown): e is CliFailure =>
  typeof e === "object" && e !== null && (e as { readonly _tag?: unknown })._tag === "CliFailure";

/** Unwraps a Right, or ends the command with the Left's message (as a CliFailure, caught by {@link runCommand}). */
export const orFail = <A>(result: E.Either<{ readonly message: string }, A>): A => {
  if (E.isLeft(result)) throw cliFailure(result.left.message);
  return result.right;
};

/** Runs a command: a CliFailure prints its sentence and exits 2; anything else is a bug and keeps its trace. */
export const runCommand = async (command: () => Promise<void>): Promise<void> => {
  try {
    await command();
  } catch (e) {
    if (!isCliFailure(e)) throw e;
    process.stderr.write(`scoreflow: ${e.message}\n`);
    process.exitCode = USAGE_EXIT_CODE;
  }
};
