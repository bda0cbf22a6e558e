/**
 * Boundary checks shared by every constructor. Each check returns `Either<ScoreflowError, number>` so that
 * constructors read as a short chain of named rules (fp-ts `Do` notation or `pipe`).
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "./errors.js";

/**
 * A named rule on a number: a predicate and its wording.
 *
 * @category Core
 */
export interface NumberRule {
  /** True when the value obeys the rule. */
  readonly test: (x: number) => boolean;
  /** How the rule reads in a message, e.g. `"must be > 0"`. */
  readonly rule: string;
}

/** @category Core */
export const isFiniteNumber: NumberRule = {
  test: (x) => typeof x === "number" && Number.isFinite(x),
  rule: "must be a finite number",
};
/** @category Core */
export const isPositive: NumberRule = {
  test: (x) => typeof x === "number" && Number.isFinite(x) && x > 0,
  rule: "must be a finite number > 0",
};
/** @category Core */
export const isNonNegative: NumberRule = {
  test: (x) => typeof x === "number" && Number.isFinite(x) && x >= 0,
  rule: "must be a finite number ≥ 0",
};
/** @category Core */
export const isPositiveInteger: NumberRule = {
  test: (x) => Number.isSafeInteger(x) && x > 0,
  rule: "must be an integer ≥ 1",
};
/** @category Core */
export const isNonNegativeInteger: NumberRule = {
  test: (x) => Number.isSafeInteger(x) && x >= 0,
  rule: "must be an integer ≥ 0",
};

/**
 * A rule `lo < x < hi` (open interval, both bounds finite).
 *
 * @category Core
 */
export const inOpenInterval = (lo: number, hi: number): NumberRule => ({
  test: (x) => typeof x === "number" && x > lo && x < hi,
  rule: `must lie in the open interval (${lo}, ${hi})`,
});

/**
 * A rule `lo ≤ x ≤ hi` (closed interval).
 *
 * @category Core
 */
export const inClosedInterval = (lo: number, hi: number): NumberRule => ({
  test: (x) => typeof x === "number" && x >= lo && x <= hi,
  rule: `must lie in the closed interval [${lo}, ${hi}]`,
});

/**
 * Checks `value` against `rule`, naming `context` and `field` in the error.
 *
 * @category Core
 */
export const check = (
  context: string,
  field: string,
  value: number,
  rule: NumberRule,
): E.Either<ScoreflowError, number> =>
  rule.test(value) ? E.right(value) : E.left(scoreflowError(context, field, value, rule.rule));

/**
 * Checks several fields of a record at once; returns the first error in the order given.
 *
 * @category Core
 */
export const checkAll = (
  context: string,
  checks: ReadonlyArray<readonly [field: string, value: number, rule: NumberRule]>,
): E.Either<ScoreflowError, void> => {
  for (const [field, value, rule] of checks) {
    if (!rule.test(value)) return E.left(scoreflowError(context, field, value, rule.rule));
  }
  return E.right(undefined);
};

/**
 * Checks an ordering between two fields, e.g. `betaMin ≤ betaMax`; the message names both values.
 *
 * @category Core
 */
export const checkOrdered = (
  context: string,
  lower: readonly [field: string, value: number],
  upper: readonly [field: string, value: number],
  strict: boolean,
): E.Either<ScoreflowError, void> => {
  const ok = strict ? lower[1] < upper[1] : lower[1] <= upper[1];
  return ok
    ? E.right(undefined)
    : E.left(
        scoreflowError(
          context,
          upper[0],
          upper[1],
          `must be ${strict ? ">" : "≥"} ${lower[0]}`,
          `${lower[0]}=${lower[1]}, ${upper[0]}=${upper[1]}`,
        ),
      );
};
