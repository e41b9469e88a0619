import { UsageError } from './errors.js';

/** A parameter of a method or metric, as `list --json` shows it and validation checks it. */
export interface ParamSpec {
  name: string;
  type: 'number' | 'integer' | 'string' | 'boolean' | 'json';
  description: string;
  default?: unknown;
  /** Allowed strings for a `string` parameter (or for the string form of a number|string one). */
  choices?: string[];
  /** `number` parameters that may also be one of `choices` (e.g. a baseline of `zero` or 0.5). */
  allowNumber?: boolean;
  /** Range of a number (or of the number form of an `allowNumber` string). Every numeric parameter has both. */
  min?: number;
  max?: number;
}

/**
 * Checks user parameters against specs and fills defaults. Unknown names and bad values are
 * refused with one line that lists what is known, so a typo is fixed at a glance.
 */
export function resolveParams(
  owner: string,
  specs: readonly ParamSpec[],
  given: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const known = specs.map((s) => s.name);
  for (const key of Object.keys(given ?? {})) {
    if (!known.includes(key)) {
      throw new UsageError(
        `unknown parameter '${key}' for ${owner}; known parameters: ${known.length ? known.join(', ') : '(none)'}`,
      );
    }
  }
  for (const spec of specs) {
    const value = given && spec.name in given ? given[spec.name] : spec.default;
    if (value === undefined) continue;
    out[spec.name] = checkValue(owner, spec, value);
  }
  return out;
}

function checkValue(owner: string, spec: ParamSpec, value: unknown): unknown {
  const where = `parameter '${spec.name}' of ${owner}`;
  switch (spec.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new UsageError(`${where} must be true or false, got ${JSON.stringify(value)}`);
      return value;
    case 'number':
    case 'integer': {
      if (typeof value === 'string' && spec.choices?.includes(value)) return value;
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        const alt = spec.choices ? ` or one of ${spec.choices.join(', ')}` : '';
        throw new UsageError(`${where} must be a finite number${alt}, got ${JSON.stringify(value)}`);
      }
      if (spec.type === 'integer' && !Number.isInteger(value)) throw new UsageError(`${where} must be an integer, got ${value}`);
      if (spec.min !== undefined && value < spec.min) throw new UsageError(`${where} must be ≥ ${spec.min}, got ${value}`);
      if (spec.max !== undefined && value > spec.max) throw new UsageError(`${where} must be ≤ ${spec.max}, got ${value}`);
      return value;
    }
    case 'string': {
      if (typeof value === 'number' && spec.allowNumber && Number.isFinite(value)) {
        if (spec.min !== undefined && value < spec.min) throw new UsageError(`${where} must be ≥ ${spec.min}, got ${value}`);
        if (spec.max !== undefined && value > spec.max) throw new UsageError(`${where} must be ≤ ${spec.max}, got ${value}`);
        return value;
      }
      if (typeof value !== 'string') throw new UsageError(`${where} must be a string, got ${JSON.stringify(value)}`);
      if (spec.choices && !spec.choices.includes(value)) {
        const alt = spec.allowNumber ? ' or a number' : '';
        throw new UsageError(`${where} must be one of ${spec.choices.join(', ')}${alt}, got '${value}'`);
      }
      return value;
    }
    case 'json':
      return value;
  }
}
