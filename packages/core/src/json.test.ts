import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { parseJsonText } from './json.js';

describe('parseJsonText', () => {
  it('parses JSON, ignoring brackets inside strings', () => {
    expect(parseJsonText('{"a": [1, {"b": "[[[{{{"}]}', 'x', 3)).toEqual({ a: [1, { b: '[[[{{{' }] });
    expect(parseJsonText('"\\\\\\"[["', 'x', 0)).toBe('\\"[[');
  });

  it('refuses nesting deeper than the limit before the parser could overflow its stack', () => {
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    expect(() => parseJsonText(deep, '--params')).toThrow(UsageError);
    expect(() => parseJsonText(deep, '--params')).toThrow('--params nests deeper than 64 levels');
    expect(parseJsonText('['.repeat(64) + ']'.repeat(64), 'x')).toBeInstanceOf(Array);
  });

  it('names what is broken', () => {
    expect(() => parseJsonText('{"a":', 'sweep config s.json')).toThrow(/^sweep config s\.json is not valid JSON \(/);
  });
});
