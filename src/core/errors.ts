/**
 * Errors are values. Every constructor and I/O function returns
 * `Either<ScoreflowError, T>`; the error names the context, the field, the offending value and the rule it broke,
 * so that a message reads like «VP SDE: betaMax must be ≥ betaMin, got betaMin=20, betaMax=0.1».
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";

/**
 * A validation or I/O error: where it happened, which field, the value received and the rule it broke.
 *
 * @category Core
 */
export interface ScoreflowError {
  /** Discriminant, for narrowing unions of error types. */
  readonly _tag: "ScoreflowError";
  /** The object being built or the operation being run, e.g. `"VP SDE"`. */
  readonly context: string;
  /** The offending field, e.g. `"betaMax"`. */
  readonly field: string;
  /** The offending value, as received. */
  readonly value: unknown;
  /** The rule that was broken, e.g. `"must be ≥ betaMin"`. */
  readonly rule: string;
  /** A one-sentence human-readable message built from the four fields above. */
  readonly message: string;
}

/** Renders a value for an error message: numbers in full precision, arrays abbreviated. */
const show = (value: unknown): string => {
  if (typeof value === "number") return Number.isNaN(value) ? "NaN" : String(value);
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const arr = Array.from(value as unknown as ArrayLike<number>);
    return `[${arr.slice(0, 6).join(", ")}${arr.length > 6 ? `, … (${arr.length})` : ""}]`;
  }
  if (Array.isArray(value))
    return `[${value.slice(0, 6).map(show).join(", ")}${value.length > 6 ? ", …" : ""}]`;
  if (typeof value === "string") return JSON.stringify(value);
  return String(value);
};

/**
 * Builds a {@link ScoreflowError}. `got` overrides the rendering of the value when the message should name
 * several fields (e.g. `"betaMin=20, betaMax=0.1"`).
 *
 * @category Core
 */
export const scoreflowError = (
  context: string,
  field: string,
  value: unknown,
  rule: string,
  got?: string,
): ScoreflowError => ({
  _tag: "ScoreflowError",
  context,
  field,
  value,
  rule,
  message: `${context}: ${field} ${rule}, got ${got ?? `${field}=${show(value)}`}`,
});

/**
 * Unwraps a `Right`, or throws an `Error` carrying the error's message (and the error itself as its `cause`).
 * Works for every error of the library (validation and solve failures alike). A convenience for scripts and
 * tests; library code keeps the `Either`.
 *
 * @category Core
 */
export const orThrow = <
  A,
  L extends {
    /** The error's one-sentence message. */
    readonly message: string;
  },
>(
  result: E.Either<L, A>,
): A => {
  if (E.isLeft(result)) throw new Error(result.left.message, { cause: result.left });
  return result.right;
};
