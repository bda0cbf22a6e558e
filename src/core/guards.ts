/**
 * Two small guards for values from outside (parsed JSON, caught exceptions), shared by every parser and file
 * reader so that each reads its input the same way.
 *
 * @module
 */

/**
 * Whether a value is a plain JSON object (not null, not an array): the shape every config and header parser
 * expects before reading fields.
 *
 * @category Core
 */
export const isRecord = (v: unknown): v is Readonly<Record<string, unknown>> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The message of a caught exception (an `Error`'s message, anything else as a string), for error values that
 * name what an I/O call reported.
 *
 * @category Core
 */
export const messageOf = (e: unknown): string => (e instanceof Error ? e.message : String(e));
