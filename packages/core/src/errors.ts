/**
 * Typed errors with one-line messages (SPEC §9). The CLI prints `message` alone and exits with
 * `exitCode` (2); `--debug` adds the stack. Anything that is not a BlameboardError is a bug.
 */
export class BlameboardError extends Error {
  readonly exitCode: number = 2;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message.replace(/\s*\n\s*/g, ' '), options);
    this.name = 'BlameboardError';
  }
}

/** The model file cannot be read: truncated, not ONNX, bad external data, … */
export class ModelLoadError extends BlameboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_LOAD', message, options);
    this.name = 'ModelLoadError';
  }
}

/** A model that loaded but fails when onnxruntime runs it (shapes fixed by its export, …). */
export class ModelRunError extends BlameboardError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('MODEL_RUN', message, options);
    this.name = 'ModelRunError';
  }
}

export interface UnsupportedOp {
  opType: string;
  name: string;
}

/**
 * Operators the IR (or a method's compiler) cannot handle. `ops` lists every node; the message
 * groups them by op type, with a count and the first node's name, so that a model with 35
 * unsupported Clips says so in one short line.
 */
export class UnsupportedOperatorError extends BlameboardError {
  constructor(
    readonly ops: UnsupportedOp[],
    context = 'unsupported operators',
  ) {
    super('UNSUPPORTED_OP', `${context}: ${groupOps(ops)}`);
    this.name = 'UnsupportedOperatorError';
  }
}

/** "Clip (35 nodes, first '/features/0/Clip'), Sin (node 'sin_1')", op types in order of first appearance. */
export function groupOps(ops: UnsupportedOp[]): string {
  const groups = new Map<string, { first: string; count: number }>();
  for (const o of ops) {
    const g = groups.get(o.opType);
    if (g) g.count++;
    else groups.set(o.opType, { first: o.name, count: 1 });
  }
  return [...groups].map(([op, g]) => (g.count === 1 ? `${op} (node '${g.first}')` : `${op} (${g.count} nodes, first '${g.first}')`)).join(', ');
}

/** Inputs that do not fit the model: wrong shape or dtype, NaN/Inf, out-of-range target. */
export class InputError extends BlameboardError {
  constructor(message: string) {
    super('INPUT', message);
    this.name = 'InputError';
  }
}

/** Unknown ids, parameters, malformed flags or configs. */
export class UsageError extends BlameboardError {
  constructor(message: string) {
    super('USAGE', message);
    this.name = 'UsageError';
  }
}

export function isBlameboardError(e: unknown): e is BlameboardError {
  return e instanceof BlameboardError;
}

/**
 * A user-given string (a file or model name) fit for a one-line terminal message: control
 * characters (C0, DEL, C1) shown as \xNN, and the invisible formatting characters that reorder or
 * hide text (bidi overrides such as U+202E, zero-width marks) as \u{…}, so a name can neither set
 * the terminal's colours or title, nor rewrite the line it is printed on.
 */
export function printable(text: string): string {
  return text
    .replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, (c) => `\\u{${c.charCodeAt(0).toString(16)}}`);
}
