import { createHash } from 'node:crypto';
import { basename, dirname, resolve } from 'node:path';
import { parseJsonText, readRegularFile, resolveParams, UsageError, type ParamSpec } from '@blameboard/core';
import { getMethod } from '@blameboard/methods';
import { parsePreprocess, type PreprocessSpec } from '@blameboard/datasets';
import { getMetric } from '@blameboard/metrics';
import type { MethodConfiguration, MetricConfig } from '@blameboard/reports';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { sweepSchema, SWEEP_DEFAULTS, SWEEP_LIMITS } from './schema.js';

/** Methods that are controls: rows that set the bars, not contenders. */
export const CONTROL_METHODS = ['uniform', 'random', 'edge'];

/** The sweep file's largest size (a config is a few kB; refuse anything that is not one). */
const MAX_CONFIG_BYTES = 1 << 20;

export interface ModelSpec {
  /** The name rows and leaderboards use. */
  name: string;
  zoo?: string;
  /** Absolute path of an ONNX file / tfjs model.json. */
  path?: string;
  dataset?: string;
  inputs?: string;
  /** How images in `inputs` are resized, cropped and normalised (as explain's --preprocess). */
  preprocess?: PreprocessSpec;
  labels?: string;
  pair?: string;
  /** JSON pointer of this model in the config (errors name it). */
  pointer: string;
}

/** One method configuration with the JSON pointer of the config entry it came from (errors name it). */
export interface MethodConfig extends MethodConfiguration {
  pointer: string;
}

export interface ResolvedSweep {
  /** The configuration as run (after --quick / --samples), hashed into configHash. */
  config: Record<string, unknown>;
  configHash: string;
  name: string;
  seed: number;
  samples: number;
  batchSize?: number;
  heatmapSamples: number;
  models: ModelSpec[];
  methods: MethodConfig[];
  metrics: MetricConfig[];
}

export interface LoadOptions {
  quick?: boolean;
  samples?: number;
}

/** JSON with sorted keys: the same value always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function sha256(text: string | Uint8Array): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads, validates and expands a sweep config file; every mistake is one line naming its JSON pointer. */
export function loadSweepConfig(file: string, opts: LoadOptions = {}): ResolvedSweep {
  // A FIFO, a device or a /proc file is refused or fails as one line, never blocks or reads on.
  const text = new TextDecoder().decode(readRegularFile(file, (why) => new UsageError(`sweep config ${file} cannot be read: ${why}`), MAX_CONFIG_BYTES));
  const raw = parseJsonText(text, `sweep config ${file}`);
  return resolveSweepConfig(raw, dirname(resolve(file)), opts, file);
}

let validator: ValidateFunction | undefined;

/** Validates a parsed config against the schema, then expands its grids (see loadSweepConfig). */
export function resolveSweepConfig(raw: unknown, baseDir: string, opts: LoadOptions = {}, where = 'sweep config'): ResolvedSweep {
  validator ??= new Ajv({ allErrors: false, strict: false, verbose: true }).compile(sweepSchema());
  if (!validator(raw)) throw new UsageError(`${where}: ${describeError(validator.errors![0], raw)}`);
  const config = structuredClone(raw) as Record<string, any>;
  const quick = opts.quick ? { samples: config.quick?.samples ?? SWEEP_DEFAULTS.quickSamples, maxAxisValues: config.quick?.maxAxisValues ?? SWEEP_DEFAULTS.quickMaxAxisValues } : null;
  if (quick) {
    config.samples = Math.min(config.samples ?? SWEEP_DEFAULTS.samples, quick.samples);
    for (const entry of [...config.methods, ...config.metrics]) {
      for (const [k, v] of Object.entries(entry.params ?? {})) if (Array.isArray(v) && isAxis(entry, k)) entry.params[k] = thin(v, quick.maxAxisValues);
    }
  }
  if (opts.samples !== undefined) config.samples = opts.samples;
  delete config.$schema;
  delete config.quick;

  const seed: number = config.seed ?? SWEEP_DEFAULTS.seed;
  const models = resolveModels(config.models, baseDir);
  const methods = expandMethods(config.methods);
  const metrics = expandMetrics(config.metrics);
  return {
    config,
    configHash: sha256(canonicalJson({ ...config, models: models.map(({ pointer: _p, ...m }) => m) })),
    name: config.name ?? 'Blameboard sweep',
    seed,
    samples: config.samples ?? SWEEP_DEFAULTS.samples,
    batchSize: config.batchSize,
    heatmapSamples: config.heatmapSamples ?? SWEEP_DEFAULTS.heatmapSamples,
    models,
    methods,
    metrics,
  };
}

/** Is `name` of a method/metric entry a grid axis when its value is an array? (`json` parameters never are.) */
function isAxis(entry: { method?: string; metric?: string }, name: string): boolean {
  const specs: readonly ParamSpec[] = entry.method ? getMethod(entry.method).params : getMetric(entry.metric!).params;
  return specs.find((s) => s.name === name)?.type !== 'json';
}

/** At most k values, evenly spaced, the first and the last kept. */
export function thin<T>(values: T[], k: number): T[] {
  if (values.length <= k) return values;
  const picked = new Set<number>();
  for (let i = 0; i < k; i++) picked.add(Math.round((i * (values.length - 1)) / (k - 1)));
  return [...picked].sort((a, b) => a - b).map((i) => values[i]);
}

function resolveModels(entries: (string | Record<string, any>)[], baseDir: string): ModelSpec[] {
  const models = entries.map((entry, i): ModelSpec => {
    const pointer = `/models/${i}`;
    if (typeof entry === 'string') return { name: entry, zoo: entry, pointer };
    const abs = (p: string | undefined) => (p === undefined ? undefined : resolve(baseDir, p));
    if (entry.path && !entry.dataset && !entry.inputs) {
      throw new UsageError(`sweep config ${pointer}: a model given by path needs a "dataset" or "inputs" to explain`);
    }
    if (entry.labels && !entry.inputs) throw new UsageError(`sweep config ${pointer}/labels: "labels" go with "inputs"`);
    if (entry.preprocess && !entry.inputs) throw new UsageError(`sweep config ${pointer}/preprocess: "preprocess" goes with image "inputs"`);
    const preprocess = entry.preprocess === undefined ? undefined : parsePreprocess(entry.preprocess, `sweep config ${pointer}/preprocess`);
    return {
      name: entry.name ?? entry.zoo ?? basename(entry.path!).replace(/\.(onnx|json)$/i, ''),
      zoo: entry.zoo,
      path: abs(entry.path),
      dataset: entry.dataset,
      inputs: abs(entry.inputs),
      ...(preprocess ? { preprocess } : {}),
      labels: abs(entry.labels),
      pair: abs(entry.pair),
      pointer,
    };
  });
  const seen = new Map<string, string>();
  for (const m of models) {
    const other = seen.get(m.name);
    if (other) throw new UsageError(`sweep config ${m.pointer}: model name '${m.name}' is already used by ${other}; give one a "name"`);
    seen.set(m.name, m.pointer);
  }
  return models;
}

interface Entry {
  label?: string;
  params?: Record<string, unknown>;
}

/**
 * Grid expansion: every array-valued parameter (but `json` ones) is an axis, in the order
 * written; the cartesian product is taken, the first axis varying slowest.
 */
function expandEntry(entry: Entry, id: string, specs: readonly ParamSpec[], pointer: string, budget: { left: number }) {
  const params = entry.params ?? {};
  const axes = Object.keys(params).filter((k) => Array.isArray(params[k]) && specs.find((s) => s.name === k)?.type !== 'json');
  // Counted before the product is built: three axes of 300 values are 27 million configurations.
  const count = axes.reduce((n, axis) => n * (params[axis] as unknown[]).length, 1);
  if (count > budget.left) {
    const max = SWEEP_LIMITS.configurations.max;
    throw new UsageError(`sweep config ${pointer}/params: the grid expands to ${count} configurations${budget.left < max ? ` (with the entries before it, more than ${max})` : ''}; a sweep takes at most ${max} ${pointer.startsWith('/methods') ? 'method' : 'metric'} configurations`);
  }
  budget.left -= count;
  const fixed = Object.fromEntries(Object.entries(params).filter(([k]) => !axes.includes(k)));
  let combos: Record<string, unknown>[] = [{}];
  for (const axis of axes) combos = combos.flatMap((c) => (params[axis] as unknown[]).map((v) => ({ ...c, [axis]: v })));
  const family = entry.label ?? [id, ...Object.entries(fixed).map(([k, v]) => `${k}=${valueText(v)}`)].join(' ');
  return combos.map((axisValues) => {
    const owner = `${pointer.startsWith('/methods') ? 'method' : 'metric'} '${id}'`;
    let resolved: Record<string, unknown>;
    try {
      resolved = resolveParams(owner, specs, { ...fixed, ...axisValues });
    } catch (e) {
      throw new UsageError(`sweep config ${pointer}/params: ${(e as Error).message}`);
    }
    const axisText = Object.entries(axisValues).map(([k, v]) => `${k}=${valueText(v)}`).join(' ');
    return { family, params: resolved, axes: axisValues, label: axisText ? `${family} ${axisText}` : family };
  });
}

function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function expandMethods(entries: (Entry & { method: string })[]): MethodConfig[] {
  const out: MethodConfig[] = [];
  const budget = { left: SWEEP_LIMITS.configurations.max };
  entries.forEach((entry, i) => {
    const pointer = `/methods/${i}`;
    for (const c of expandEntry(entry, entry.method, getMethod(entry.method).params, pointer, budget)) {
      out.push({ ...c, method: entry.method, control: CONTROL_METHODS.includes(entry.method), pointer });
    }
  });
  unique(out.map((m) => [m.label, m.pointer]), 'method configuration');
  // Two rows computing the same thing would share one cache entry and split its ranks.
  unique(out.map((m) => [canonicalJson({ method: m.method, params: m.params }), m.pointer]), 'method configuration', (m) => `the same method configuration (${m.slice(0, 120)})`);
  return out;
}

function expandMetrics(entries: (Entry & { metric: string })[]): MetricConfig[] {
  const out: (MetricConfig & { pointer: string })[] = [];
  const budget = { left: SWEEP_LIMITS.configurations.max };
  entries.forEach((entry, i) => {
    const pointer = `/metrics/${i}`;
    for (const c of expandEntry(entry, entry.metric, getMetric(entry.metric).params, pointer, budget)) {
      const axes = Object.entries(c.axes).map(([k, v]) => `${k}=${valueText(v)}`).join(',');
      const label = entry.label ? (axes ? `${entry.label}[${axes}]` : entry.label) : axes ? `${entry.metric}[${axes}]` : entry.metric;
      out.push({ label, metric: entry.metric, params: c.params, pointer });
    }
  });
  unique(out.map((m) => [m.label, m.pointer]), 'metric configuration');
  return out.map(({ pointer: _p, ...m }) => m);
}

function unique(labels: [string, string][], what: string, describe?: (label: string) => string): void {
  const seen = new Map<string, string>();
  for (const [label, pointer] of labels) {
    const other = seen.get(label);
    if (other && describe) throw new UsageError(`sweep config ${pointer}: ${describe(label)} is already made by ${other}`);
    if (other && other !== pointer) throw new UsageError(`sweep config ${pointer}: ${what} '${label}' is already made by ${other}; give one entry a "label"`);
    seen.set(label, pointer);
  }
}

function valueAt(doc: unknown, pointer: string): unknown {
  let v: any = doc;
  for (const part of pointer.split('/').slice(1)) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (v === null || typeof v !== 'object') return undefined;
    v = v[key];
  }
  return v;
}

function short(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** ajv's first error as one line: the JSON pointer, the bad value and what is allowed. */
function describeError(err: ErrorObject, doc: unknown): string {
  const at = err.instancePath || '';
  const here = at || '/';
  const value = valueAt(doc, at);
  const p = err.params as Record<string, any>;
  switch (err.keyword) {
    case 'additionalProperties': {
      const allowed = Object.keys((err.parentSchema as { properties?: object })?.properties ?? {});
      const what = /\/params$/.test(at) ? 'unknown parameter' : 'unknown key';
      return `${at}/${p.additionalProperty}: ${what} '${p.additionalProperty}'; allowed: ${allowed.join(', ') || '(none)'}`;
    }
    case 'required':
      return `${here}: missing required key '${p.missingProperty}'`;
    case 'enum':
      return `${here}: ${short(value)} is not allowed; allowed: ${(p.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
    case 'const':
      return `${here}: must be ${JSON.stringify(p.allowedValue)}, got ${short(value)}`;
    case 'type':
      return `${here}: must be ${p.type === 'integer' ? 'a whole number' : `of type ${p.type}`}, got ${short(value)}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${here}: must be ${p.comparison} ${p.limit}, got ${short(value)}`;
    case 'minItems':
      return `${here}: needs at least ${p.limit} item${p.limit === 1 ? '' : 's'}`;
    case 'minLength':
    case 'maxLength':
      return `${here}: ${err.message}, got ${short(value)}`;
    case 'oneOf':
    case 'not':
      return `${here}: a model object names exactly one of "zoo" (a zoo id) or "path" (an ONNX file)`;
    default:
      return `${here}: ${err.message ?? 'invalid'}, got ${short(value)}`;
  }
}
