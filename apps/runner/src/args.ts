import { parseArgs } from 'node:util';
import { parseJsonText, parseMemory, UsageError } from '@blameboard/core';

export interface FlagSpec {
  [name: string]: { type: 'string' | 'boolean'; multiple?: boolean };
}

/** Parses flags strictly: an unknown flag is a one-line usage error naming the known ones. */
export interface ParsedFlags {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

export function parseFlags(command: string, argv: string[], flags: FlagSpec): ParsedFlags {
  try {
    const parsed = parseArgs({ args: argv, options: { ...flags, debug: { type: 'boolean' } }, allowPositionals: true, strict: true });
    return { values: parsed.values as ParsedFlags['values'], positionals: parsed.positionals };
  } catch (e) {
    const known = Object.keys(flags).map((f) => `--${f}`).join(', ');
    throw new UsageError(`${(e as Error).message.split('\n')[0]}; known flags: ${known}`);
  }
}

export function required(command: string, values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required (see 'blameboard --help' for )`);
  return v;
}

export function parseJsonFlag(command: string, flag: string, text: string | undefined): Record<string, unknown> {
  if (text === undefined) return {};
  const value = parseJsonText(text, `--${flag}`);
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--${flag} must be a JSON object such as '{"steps": 64}'`);
  }
  return value as Record<string, unknown>;
}

/** A string flag's value, or undefined when absent. */
export function optional(values: ParsedFlags['values'], name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** A whole-number flag within [min, max], or undefined when absent. */
export function integerFlag(values: ParsedFlags['values'], name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const text = optional(values, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got '${text}'`);
  }
  return n;
}

/**
 * `--memory SIZE`: the memory budget of the run (4G, 512M, 50%), or undefined when absent (then
 * BLAMEBOARD_MEMORY, else half the machine's memory). Batch sizes are derived from it.
 */
export function memoryFlag(values: ParsedFlags['values']): number | undefined {
  const text = optional(values, 'memory');
  return text === undefined ? undefined : parseMemory(text);
}

/** A string flag restricted to a few choices, or the default when absent. */
export function choiceFlag<T extends string>(values: ParsedFlags['values'], name: string, choices: readonly T[], fallback: T): T {
  const text = optional(values, name);
  if (text === undefined) return fallback;
  if (!choices.includes(text as T)) throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got '${text}'`);
  return text as T;
}
