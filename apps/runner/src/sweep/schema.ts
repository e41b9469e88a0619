import type { ParamSpec } from '@blameboard/core';
import { datasets } from '@blameboard/datasets';
import { methods } from '@blameboard/methods';
import { metrics } from '@blameboard/metrics';
import { zooIds } from '@blameboard/models';

/** Defaults of the sweep's own settings (method and metric defaults live in their ParamSpecs). */
export const SWEEP_DEFAULTS = { seed: 0, samples: 128, heatmapSamples: 6, quickSamples: 16, quickMaxAxisValues: 3 } as const;

/** Bounds of the sweep's own settings (method and metric parameters take theirs from their ParamSpec). */
export const SWEEP_LIMITS = {
  samples: { min: 1, max: 100_000 },
  seed: { min: 0, max: 2 ** 32 - 1 },
  heatmapSamples: { min: 0, max: 16 },
  maxAxisValues: { min: 2, max: 1000 },
  batchSize: { min: 1, max: 65_536 },
  /** Method (or metric) configurations a config's grids may expand to: the default bench makes 44. */
  configurations: { min: 1, max: 10_000 },
} as const;

type Schema = Record<string, unknown>;

/**
 * One parameter's value: the ParamSpec's type and range. A parameter of type `json` (per-layer
 * rules, per-channel bounds) is taken literally — its arrays are values, not grids.
 */
function scalarSchema(spec: ParamSpec): Schema {
  const range: Schema = {};
  if (spec.min !== undefined) range.minimum = spec.min;
  if (spec.max !== undefined) range.maximum = spec.max;
  switch (spec.type) {
    case 'boolean':
      return { type: 'boolean' };
    case 'integer':
    case 'number': {
      const num = { type: spec.type, ...range };
      return spec.choices ? { if: { type: 'string' }, then: { enum: spec.choices }, else: num } : num;
    }
    case 'string': {
      const str = spec.choices ? { type: 'string', enum: spec.choices } : { type: 'string' };
      return spec.allowNumber ? { if: { type: 'number' }, then: { type: 'number', ...range }, else: str } : str;
    }
    case 'json':
      return {};
  }
}

/** A value or, for any parameter but `json` ones, a non-empty array of values: a grid axis. */
function paramSchema(spec: ParamSpec): Schema {
  const scalar = scalarSchema(spec);
  const description = `${spec.description}${spec.default !== undefined ? ` (default ${JSON.stringify(spec.default)})` : ''}`;
  if (spec.type === 'json') return { description: `${description}; taken as written (an array here is a value, not a grid)` };
  return {
    description: `${description}; an array of values is a grid axis`,
    if: { type: 'array' },
    then: { type: 'array', minItems: 1, items: scalar },
    else: scalar,
  };
}

function paramsSchema(specs: readonly ParamSpec[]): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    properties: Object.fromEntries(specs.map((s) => [s.name, paramSchema(s)])),
  };
}

/** `{ <key>: id, label?, params? }` whose params follow the id's ParamSpecs. */
function entrySchema(key: 'method' | 'metric', entries: { id: string; description: string; params: readonly ParamSpec[] }[]): Schema {
  return {
    type: 'object',
    required: [key],
    additionalProperties: false,
    properties: {
      [key]: { enum: entries.map((e) => e.id), description: entries.map((e) => `${e.id}: ${e.description}`).join('\n') },
      label: { type: 'string', minLength: 1, maxLength: 200, description: `name of this ${key} entry in the reports (default: the id and its fixed parameters)` },
      params: { type: 'object' },
    },
    allOf: entries.map((e) => ({
      if: { properties: { [key]: { const: e.id } }, required: [key] },
      then: { properties: { params: paramsSchema(e.params) } },
    })),
  };
}

const modelObject: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200, description: 'how reports call the model (default: the zoo id or the file name)' },
    zoo: { enum: zooIds, description: 'a zoo model id' },
    path: { type: 'string', minLength: 1, description: 'an ONNX file or a tfjs model.json, relative to this config file' },
    dataset: { enum: datasets.map((d) => d.id), description: 'the dataset whose test split is explained (zoo models: their own)' },
    inputs: {
      type: 'string',
      minLength: 1,
      description: 'inputs to explain instead of a dataset, relative to this config file: a float .npy, an .npz (x.npz:name), a PNG/JPEG image or a folder of them',
    },
    preprocess: {
      type: 'object',
      description: 'for image inputs: {"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]} (as explain --preprocess)',
    },
    labels: { type: 'string', minLength: 1, description: 'an integer .npy of gold labels for the inputs (counterfactual-blame)' },
    pair: { type: 'string', minLength: 1, description: 'an ONNX file computing the same function (implementation-invariance), relative to this config file' },
  },
};

/**
 * The sweep configuration's JSON Schema, built from the method, metric, dataset and zoo registries
 * so it can never disagree with them. `schema/sweep.schema.json` is this, written out for editors
 * (a test keeps the file in step).
 */
export function sweepSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: 'https://blameboard.dev/schema/sweep.schema.json',
    title: 'Blameboard sweep configuration',
    description: 'Models × method configurations (an array parameter value is a grid axis; the cartesian product is taken) × metric configurations, for `blameboard sweep --config`.',
    type: 'object',
    required: ['models', 'methods', 'metrics'],
    additionalProperties: false,
    properties: {
      $schema: { type: 'string' },
      name: { type: 'string', maxLength: 200, description: 'title of the reports' },
      seed: { type: 'integer', minimum: SWEEP_LIMITS.seed.min, maximum: SWEEP_LIMITS.seed.max, description: `seed of the sample choice, the methods, the metrics and the bootstrap (default ${SWEEP_DEFAULTS.seed})` },
      samples: { type: 'integer', minimum: SWEEP_LIMITS.samples.min, maximum: SWEEP_LIMITS.samples.max, description: `samples per model from the test split (default ${SWEEP_DEFAULTS.samples})` },
      batchSize: { type: 'integer', minimum: SWEEP_LIMITS.batchSize.min, maximum: SWEEP_LIMITS.batchSize.max, description: 'rows per onnxruntime run inside methods (default: the methods\u2019 own)' },
      heatmapSamples: { type: 'integer', minimum: SWEEP_LIMITS.heatmapSamples.min, maximum: SWEEP_LIMITS.heatmapSamples.max, description: `fixed samples in the report\u2019s heatmap grid (default ${SWEEP_DEFAULTS.heatmapSamples})` },
      models: {
        type: 'array',
        minItems: 1,
        description: 'zoo ids, or objects naming an ONNX file with a dataset or inputs',
        items: {
          if: { type: 'string' },
          then: { enum: zooIds },
          else: { ...modelObject, oneOf: [{ required: ['zoo'], not: { required: ['path'] } }, { required: ['path'], not: { required: ['zoo'] } }] },
        },
      },
      methods: { type: 'array', minItems: 1, items: entrySchema('method', methods) },
      metrics: { type: 'array', minItems: 1, items: entrySchema('metric', metrics) },
      quick: {
        type: 'object',
        additionalProperties: false,
        description: 'what --quick changes',
        properties: {
          samples: { type: 'integer', minimum: SWEEP_LIMITS.samples.min, maximum: SWEEP_LIMITS.samples.max, description: `samples per model (default ${SWEEP_DEFAULTS.quickSamples})` },
          maxAxisValues: {
            type: 'integer',
            minimum: SWEEP_LIMITS.maxAxisValues.min,
            maximum: SWEEP_LIMITS.maxAxisValues.max,
            description: `values kept per grid axis, evenly spaced, first and last included (default ${SWEEP_DEFAULTS.quickMaxAxisValues})`,
          },
        },
      },
    },
  };
}
