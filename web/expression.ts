/**
 * A tiny, safe parser for the noise rate β(t) typed on the page: numbers, the variable t, the constants pi and
 * e, + − × / ^ (also `*`, `·`, `−`, `**`), parentheses, implicit products (`19.9t`, `2(t + 1)`) and the functions
 * exp, log (natural), sqrt, sin and cos. The text becomes a tree of closures `(t) => number`: nothing is
 * evaluated as code (no `eval`, no `Function`).
 *
 * Grammar (precedence from loose to tight; `^` is right-associative and binds tighter than a unary sign, so
 * −t^2 = −(t²) and 2^−t = 2^(−t)):
 *
 *   sum     := product (("+" | "−") product)*
 *   product := unary (("×" | "/") unary | primary-start unary)*      (the second form is an implicit ×)
 *   unary   := ("+" | "−") unary | power
 *   power   := primary ("^" unary)?
 *   primary := number | "t" | "pi" | "e" | name "(" sum ")" | "(" sum ")"
 *
 * @module
 */
import * as E from "fp-ts/lib/Either.js";

/** A parsed expression in t. */
export type Expression = (t: number) => number;

/** Why a text is not an expression: a message and the 0-based column it points at. */
export interface ExpressionError {
  /** One sentence, e.g. «unknown name "tt" at column 3». */
  readonly message: string;
  /** Where in the text (0-based). */
  readonly column: number;
}

/** The functions an expression may call (a Map: no inherited names such as "constructor"). */
const FUNCTIONS: ReadonlyMap<string, (x: number) => number> = new Map([
  ["exp", Math.exp],
  ["log", Math.log],
  ["sqrt", Math.sqrt],
  ["sin", Math.sin],
  ["cos", Math.cos],
]);

/** The named constants. */
const CONSTANTS: ReadonlyMap<string, number> = new Map([
  ["pi", Math.PI],
  ["e", Math.E],
]);

type Token =
  | { readonly kind: "number"; readonly value: number; readonly column: number }
  | { readonly kind: "name"; readonly name: string; readonly column: number }
  | { readonly kind: "op"; readonly op: "+" | "-" | "*" | "/" | "^" | "(" | ")"; readonly column: number }
  | { readonly kind: "end"; readonly column: number };

/** Spellings of the operators, longest first. */
const OPERATORS: ReadonlyArray<readonly [string, "+" | "-" | "*" | "/" | "^" | "(" | ")"]> = [
  ["**", "^"],
  ["+", "+"],
  ["-", "-"],
  ["−", "-"],
  ["*", "*"],
  ["×", "*"],
  ["·", "*"],
  ["/", "/"],
  ["÷", "/"],
  ["^", "^"],
  ["(", "("],
  [")", ")"],
];

const NUMBER = /^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][A-Za-z_0-9]*/;

/** Splits the text into tokens, or names the first character that starts none. */
const tokenize = (text: string): E.Either<ExpressionError, readonly Token[]> => {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space !== null) {
      i += space[0].length;
      continue;
    }
    // A number before a name: "2e" is 2·e only when no exponent digits follow, which NUMBER already requires.
    const number = NUMBER.exec(rest);
    if (number !== null) {
      tokens.push({ kind: "number", value: Number(number[0]), column: i });
      i += number[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name !== null) {
      tokens.push({ kind: "name", name: name[0], column: i });
      i += name[0].length;
      continue;
    }
    const op = OPERATORS.find(([spelling]) => rest.startsWith(spelling));
    if (op === undefined) return E.left({ message: `unexpected "${rest[0]}" at column ${i + 1}`, column: i });
    tokens.push({ kind: "op", op: op[1], column: i });
    i += op[0].length;
  }
  tokens.push({ kind: "end", column: text.length });
  return E.right(tokens);
};

/** A recursive-descent parser over the tokens; errors are thrown as values and caught in {@link parseExpression}. */
class ParseFailure {
  constructor(readonly error: ExpressionError) {}
}

const describe = (token: Token): string =>
  token.kind === "end"
    ? "the end"
    : token.kind === "number"
      ? `"${token.value}"`
      : token.kind === "name"
        ? `"${token.name}"`
        : `"${token.op}"`;

const fail = (token: Token, what: string): never => {
  throw new ParseFailure({
    message: `${what}, found ${describe(token)} at column ${token.column + 1}`,
    column: token.column,
  });
};

const parseTokens = (tokens: readonly Token[]): Expression => {
  let position = 0;
  const peek = (): Token => tokens[position];
  const isOp = (token: Token, op: string): boolean => token.kind === "op" && token.op === op;
  const startsPrimary = (token: Token): boolean =>
    token.kind === "number" || token.kind === "name" || isOp(token, "(");

  const sum = (): Expression => {
    let left = product();
    for (;;) {
      const token = peek();
      if (isOp(token, "+") || isOp(token, "-")) {
        position++;
        const [a, b] = [left, product()];
        left = isOp(token, "+") ? (t) => a(t) + b(t) : (t) => a(t) - b(t);
      } else return left;
    }
  };

  const product = (): Expression => {
    let left = unary();
    for (;;) {
      const token = peek();
      if (isOp(token, "*") || isOp(token, "/")) {
        position++;
        const [a, b] = [left, unary()];
        left = isOp(token, "*") ? (t) => a(t) * b(t) : (t) => a(t) / b(t);
      } else if (startsPrimary(token)) {
        const [a, b] = [left, unary()];
        left = (t) => a(t) * b(t);
      } else return left;
    }
  };

  const unary = (): Expression => {
    const token = peek();
    if (isOp(token, "-")) {
      position++;
      const a = unary();
      return (t) => -a(t);
    }
    if (isOp(token, "+")) {
      position++;
      return unary();
    }
    return power();
  };

  const power = (): Expression => {
    const base = primary();
    if (!isOp(peek(), "^")) return base;
    position++;
    const exponent = unary();
    return (t) => base(t) ** exponent(t);
  };

  const closing = (open: Token): void => {
    if (!isOp(peek(), ")")) fail(peek(), `expected ")" to close the "(" at column ${open.column + 1}`);
    position++;
  };

  const primary = (): Expression => {
    const token = peek();
    if (token.kind === "number") {
      position++;
      const value = token.value;
      return () => value;
    }
    if (isOp(token, "(")) {
      position++;
      const inner = sum();
      closing(token);
      return inner;
    }
    if (token.kind === "name") {
      position++;
      if (token.name === "t") return (t) => t;
      const constant = CONSTANTS.get(token.name);
      if (constant !== undefined) return () => constant;
      const f = FUNCTIONS.get(token.name);
      if (f === undefined)
        throw new ParseFailure({
          message: `unknown name "${token.name}" at column ${token.column + 1} (use t, pi, e, ${[...FUNCTIONS.keys()].join(", ")})`,
          column: token.column,
        });
      const open = peek();
      if (!isOp(open, "(")) fail(open, `expected "(" after ${token.name}`);
      position++;
      const argument = sum();
      closing(open);
      return (t) => f(argument(t));
    }
    return fail(token, "expected a number, t, a function or (");
  };

  const expression = sum();
  if (peek().kind !== "end") fail(peek(), "expected an operator or the end");
  return expression;
};

/**
 * Parses an expression in t. Right: a function of t; Left: the first error with its column. An empty text is
 * an error.
 */
export const parseExpression = (text: string): E.Either<ExpressionError, Expression> =>
  E.flatMap(tokenize(text), (tokens) => {
    try {
      return E.right(parseTokens(tokens));
    } catch (e) {
      if (e instanceof ParseFailure) return E.left(e.error);
      throw e;
    }
  });
