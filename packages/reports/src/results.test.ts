import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '@blameboard/core';
import { readResults, serializeResults, serializeSamples, validateResults } from './results.js';
import { resultsDocument } from './test-utils/fixtures.js';

describe('results.json', () => {
  it('round-trips a valid document and its samples through a folder', () => {
    const { results, samples } = resultsDocument();
    const dir = mkdtempSync(join(tmpdir(), 'bb-results-'));
    writeFileSync(join(dir, 'results.json'), serializeResults(results));
    writeFileSync(join(dir, 'samples.ndjson'), serializeSamples(samples));
    const back = readResults(dir);
    expect(back.results).toEqual(results);
    expect(back.samples).toEqual(samples);
  });

  it('refuses a document that breaks the schema, naming the JSON pointer', () => {
    const { results } = resultsDocument();
    const bad = structuredClone(results) as unknown as { leaderboards: { rows: { meanRank: unknown }[] }[] };
    bad.leaderboards[0].rows[1].meanRank = 'first';
    expect(() => validateResults(bad)).toThrow(InputError);
    expect(() => validateResults(bad)).toThrow(/at \/leaderboards\/0\/rows\/1\/meanRank: must be number,null/);
    expect(() => serializeResults(bad as never)).toThrow(/results schema/);
    expect(() => validateResults({ ...results, schemaVersion: 2 })).toThrow(/\/schemaVersion/);
  });

  it('says which file and line of samples.ndjson is broken', () => {
    const { results } = resultsDocument();
    const dir = mkdtempSync(join(tmpdir(), 'bb-results-'));
    writeFileSync(join(dir, 'results.json'), serializeResults(results));
    writeFileSync(join(dir, 'samples.ndjson'), '{"cell":"a","config":"s","value":"v","perSample":[1]}\n{oops\n');
    expect(() => readResults(dir)).toThrow(/samples\.ndjson:2 is not valid JSON/);
  });
});
