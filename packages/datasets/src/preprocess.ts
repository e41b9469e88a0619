import { UsageError } from '@blameboard/core';

/**
 * How images become model inputs, in torchvision's order: Resize → CenterCrop → ToTensor (scale
 * to [0, 1]) → Normalize. Every field is optional; an empty spec feeds [0, 1] pixels unchanged.
 */
export interface PreprocessSpec {
  /** The shorter side becomes this many pixels, aspect ratio kept (torchvision `Resize(n)`); or [height, width] exactly. */
  resize?: number | [number, number];
  /** Centre crop to a square of this side (torchvision `CenterCrop(n)`), or [height, width]. */
  crop?: number | [number, number];
  /** Subtracted from each channel after scaling to [0, 1]: one value for every channel, or one per channel. */
  mean?: number[];
  /** Each channel is divided by this after the mean (> 0): one value, or one per channel. */
  std?: number[];
}

const KEYS = ['resize', 'crop', 'mean', 'std'] as const;
/** Larger sides are surely a mistake (and would allocate gigabytes per image). */
export const MAX_SIDE = 16384;

function bad(field: string, message: string, where = 'preprocess'): never {
  throw new UsageError(`${where}.${field} ${message}`);
}

function side(where: string, field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_SIDE) {
    bad(field, `must be a whole number of pixels from 1 to ${MAX_SIDE}, got ${JSON.stringify(v)}`, where);
  }
  return v;
}

function size(where: string, field: string, v: unknown): number | [number, number] {
  if (Array.isArray(v)) {
    if (v.length !== 2) bad(field, `must be a number or [height, width], got ${JSON.stringify(v)}`, where);
    return [side(where, `${field}[0]`, v[0]), side(where, `${field}[1]`, v[1])];
  }
  return side(where, field, v);
}

function values(where: string, field: string, v: unknown, positive: boolean): number[] {
  const list = typeof v === 'number' ? [v] : v;
  if (!Array.isArray(list) || list.length === 0) bad(field, `must be a number or a non-empty array of numbers (per channel), got ${JSON.stringify(v)}`, where);
  return list.map((x, i) => {
    const at = typeof v === 'number' ? field : `${field}[${i}]`;
    if (typeof x !== 'number' || !Number.isFinite(x)) bad(at, `must be a finite number, got ${JSON.stringify(x)}`, where);
    if (positive && !(x > 0)) bad(at, `must be > 0, got ${x}`, where);
    return x;
  });
}

/**
 * Validates a preprocessing spec (a parsed JSON value, e.g. `--preprocess` or a sweep config's
 * `preprocess`). Every mistake is a one-line UsageError naming the field under `where`, e.g.
 * `preprocess.std[1] must be > 0, got 0` (a sweep config may pass its JSON pointer as `where`).
 */
export function parsePreprocess(value: unknown, where = 'preprocess'): PreprocessSpec {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${where} must be a JSON object such as '{"resize": 256, "crop": 224, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}', got ${JSON.stringify(value)}`);
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!(KEYS as readonly string[]).includes(key)) throw new UsageError(`${where}: unknown field '${key}'; known fields: ${KEYS.join(', ')}`);
  }
  const spec: PreprocessSpec = {};
  if (v.resize !== undefined) spec.resize = size(where, 'resize', v.resize);
  if (v.crop !== undefined) spec.crop = size(where, 'crop', v.crop);
  if (v.mean !== undefined) spec.mean = values(where, 'mean', v.mean, false);
  if (v.std !== undefined) spec.std = values(where, 'std', v.std, true);
  return spec;
}

/** A per-channel list (one value or one per channel) expanded to `channels` values; a length that fits neither is refused. */
export function perChannel(field: 'mean' | 'std', list: number[] | undefined, channels: number, fallback: number): number[] {
  if (list === undefined) return new Array<number>(channels).fill(fallback);
  if (list.length === 1) return new Array<number>(channels).fill(list[0]);
  if (list.length !== channels) {
    bad(field, `has ${list.length} values but the inputs have ${channels} channel${channels === 1 ? '' : 's'}; give ${channels === 1 ? 'one value' : `1 or ${channels}`}`);
  }
  return [...list];
}

/**
 * Where [0, 1] pixels land after normalisation, per channel: low = (0 − mean)/std,
 * high = (1 − mean)/std. LRP's z-box takes these as its default bounds for image inputs.
 */
export function pixelRange(spec: PreprocessSpec, channels: number): { low: number[]; high: number[] } {
  const mean = perChannel('mean', spec.mean, channels, 0);
  const std = perChannel('std', spec.std, channels, 1);
  return { low: mean.map((m, c) => (0 - m) / std[c]), high: mean.map((m, c) => (1 - m) / std[c]) };
}

/**
 * The size after `resize`, as torchvision computes it: for a number n the shorter side becomes n
 * and the longer side ⌊n · long / short⌋; for [h, w] exactly that.
 */
export function resizedSize(height: number, width: number, resize: PreprocessSpec['resize']): [number, number] {
  if (resize === undefined) return [height, width];
  if (Array.isArray(resize)) return resize;
  if (width <= height) return [Math.floor((resize * height) / width), resize];
  return [resize, Math.floor((resize * width) / height)];
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop offsets use it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The centre crop's top-left corner and size in an image of `height`×`width`:
 * top = round((height − h) / 2) with Python's rounding, as torchvision's `center_crop`.
 * A crop larger than the image is refused (torchvision would pad it with zeros).
 */
export function cropBox(height: number, width: number, crop: PreprocessSpec['crop']): { top: number; left: number; height: number; width: number } {
  if (crop === undefined) return { top: 0, left: 0, height, width };
  const [h, w] = Array.isArray(crop) ? crop : [crop, crop];
  if (h > height || w > width) {
    throw new UsageError(`preprocess.crop ${h}×${w} is larger than the ${height}×${width} image it crops; resize to at least that first`);
  }
  return { top: roundHalfEven((height - h) / 2), left: roundHalfEven((width - w) / 2), height: h, width: w };
}
