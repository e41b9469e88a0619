import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, readRegularFile } from '@blameboard/core';
import { Ajv, type ValidateFunction } from 'ajv';
import type { ResultsDocument, SampleLine } from './types.js';

/** The JSON Schema of `results.json`, shipped with the package (`schema/results.schema.json`). */
export const RESULTS_SCHEMA_URL = new URL('../schema/results.schema.json', import.meta.url);
export const RESULTS_FILE = 'results.json';
export const SAMPLES_FILE = 'samples.ndjson';

let validator: ValidateFunction | undefined;

function validate(doc: unknown): boolean {
  if (!validator) {
    const schema = JSON.parse(readFileSync(RESULTS_SCHEMA_URL, 'utf8'));
    validator = new Ajv({ allErrors: false, strict: true }).compile(schema);
  }
  return validator(doc);
}

/** Checks a results document against the schema; a mismatch is one line naming the JSON pointer. */
export function validateResults(doc: unknown, where = RESULTS_FILE): asserts doc is ResultsDocument {
  if (validate(doc)) return;
  const err = validator!.errors?.[0];
  const pointer = err?.instancePath || '/';
  throw new InputError(`${where} does not match the results schema at ${pointer}: ${err?.message ?? 'invalid'}`);
}

/** Serialises a document after validating it, so an invalid results.json is never written. */
export function serializeResults(doc: ResultsDocument): string {
  validateResults(doc);
  return JSON.stringify(doc, null, 2) + '\n';
}

export function serializeSamples(lines: SampleLine[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + (lines.length ? '\n' : '');
}

/** Reads and validates `results.json` and `samples.ndjson` of a results folder. */
export function readResults(dir: string): { results: ResultsDocument; samples: SampleLine[] } {
  const path = join(dir, RESULTS_FILE);
  const text = readText(path, (why) => new InputError(`${path} cannot be read (${why}): is ${dir} a sweep's results folder?`));
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new InputError(`${path} is not valid JSON (${(e as Error).message})`);
  }
  validateResults(doc, path);
  const samplesPath = join(dir, SAMPLES_FILE);
  return { results: doc, samples: parseSamples(readText(samplesPath, (why) => new InputError(`${samplesPath} cannot be read (${why})`)), samplesPath) };
}

/** A results file as text: a regular file only (a FIFO or a link to /dev/zero is refused, never read). */
function readText(path: string, fail: (why: string) => Error): string {
  return new TextDecoder().decode(readRegularFile(path, fail));
}

export function parseSamples(text: string, where = SAMPLES_FILE): SampleLine[] {
  const lines: SampleLine[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    let v: SampleLine;
    try {
      v = JSON.parse(line);
    } catch (e) {
      throw new InputError(`${where}:${i + 1} is not valid JSON (${(e as Error).message})`);
    }
    if (typeof v?.cell !== 'string' || typeof v.config !== 'string' || typeof v.value !== 'string' || !Array.isArray(v.perSample)) {
      throw new InputError(`${where}:${i + 1} is not a sample line { cell, config, value, direction, perSample }`);
    }
    lines.push(v);
  });
  return lines;
}
