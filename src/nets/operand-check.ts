/**
 * Boundary checks on network operands shared by the element-wise and normalization ops: a tensor has a rank in
 * range, positive integer axes, a buffer whose length is the product of its shape, and only finite values; or it
 * has exactly a required shape. Every error names the op (context), the operand (field) and the rule.
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { type ScoreflowError, scoreflowError } from "../core/errors.js";
import { firstNonFinite, type Storage, size, type Tensor } from "../core/tensor.js";

/**
 * Checks that an operand's buffer length equals the product of its shape and that every value is finite.
 *
 * @category Networks
 */
export const checkOperandData = (
  context: string,
  field: string,
  t: Tensor<Storage>,
): E.Either<ScoreflowError, void> => {
  if (t.data.length !== size(t.shape)) {
    return E.left(
      scoreflowError(
        context,
        `${field}.data`,
        t.data.length,
        `length must equal the product of the shape [${t.shape.join(", ")}]`,
      ),
    );
  }
  const i = firstNonFinite(t.data);
  return i < 0
    ? E.right(undefined)
    : E.left(scoreflowError(context, `${field}.data[${i}]`, t.data[i], "must be finite"));
};

/**
 * Checks an operand: minRank ≤ rank ≤ maxRank, every axis an integer ≥ 1, data length = ∏ shape, all values
 * finite. `layout` names the expected axes in the message, e.g. `"NCHW"`.
 *
 * @category Networks
 */
export const checkOperand = (
  context: string,
  field: string,
  t: Tensor<Storage>,
  minRank: number,
  maxRank: number,
  layout: string,
): E.Either<ScoreflowError, void> => {
  const rank = t.shape.length;
  if (rank < minRank || rank > maxRank || t.shape.some((d) => !Number.isSafeInteger(d) || d < 1)) {
    const ranks =
      minRank === maxRank
        ? `${minRank}`
        : maxRank === Number.POSITIVE_INFINITY
          ? `at least ${minRank}`
          : `${minRank} to ${maxRank}`;
    return E.left(
      scoreflowError(context, `${field}.shape`, t.shape, `must be ${ranks} integers ≥ 1 (${layout})`),
    );
  }
  return checkOperandData(context, field, t);
};

/**
 * Checks that an operand has exactly the shape `want` (described by `what`, e.g. `"[C]"`) and finite data.
 *
 * @category Networks
 */
export const checkExactShape = (
  context: string,
  field: string,
  t: Tensor<Storage>,
  want: readonly number[],
  what: string,
): E.Either<ScoreflowError, void> => {
  if (t.shape.length !== want.length || t.shape.some((d, i) => d !== want[i])) {
    return E.left(
      scoreflowError(context, `${field}.shape`, t.shape, `must be [${want.join(", ")}] (= ${what})`),
    );
  }
  return checkOperandData(context, field, t);
};
