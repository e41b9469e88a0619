import { readdirSync, statSync, type Stats } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { float32, InputError, printable, readNpy, readNpz, readRegularFile, UsageError, type Tensor } from '@blameboard/core';
import { decodeImage, isGray, isJpeg, isOpaque, isPng, type DecodedImage } from './images.js';
import { cropBox, parsePreprocess, perChannel, pixelRange, resizedSize, type PreprocessSpec } from './preprocess.js';
import { resizeWindow } from './resample.js';

export interface LoadInputsOptions {
  /** Images only: resize, crop and normalisation (validated here too). */
  preprocess?: PreprocessSpec;
  /**
   * The model's per-sample input shape ([C, H, W], or flat [C·H·W]). For images it sets the
   * channel count and is checked against the preprocessed size, with an error saying which
   * preprocess field to change. Without it images give 3 channels (RGB) and keep their size.
   */
  inputShape?: number[];
  /** `.npz` only: the array to read (default: the only one). `data.npz:name` in the path says the same. */
  array?: string;
}

export interface LoadedInputs {
  /** [N, …] float32. */
  inputs: Tensor;
  format: 'npy' | 'npz' | 'images';
  /** Image files in row order (images only): sorted by name, Unicode code point order. */
  files?: string[];
  /** The preprocessing applied, validated (images only). */
  preprocess?: PreprocessSpec;
  /**
   * Images only: where a [0, 1] pixel lands after normalisation, per channel,
   * low = (0 − mean)/std and high = (1 − mean)/std (LRP z-box's default bounds).
   */
  pixelRange?: { low: number[]; high: number[] };
  /** `.npz` only: the array that was read. */
  array?: string;
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg'];

/**
 * Reads model inputs from a `.npy`, an `.npz` (one array), a PNG/JPEG file, or a folder of
 * PNG/JPEG images (every image one row, in sorted file-name order). The kind is read from the
 * file's bytes; a folder's files from their extension. `.npy`/`.npz` must be float32 or float64
 * (converted). Every problem is a one-line InputError or UsageError naming the file or field.
 */
export function loadInputs(path: string, options: LoadInputsOptions = {}): LoadedInputs {
  let file = path;
  let array = options.array;
  let stats = statOrUndefined(file);
  // `data.npz:name` picks an array, unless a file of exactly that name exists.
  const named = /^(.*\.npz):([^/\\:]+)$/i.exec(path);
  if (!stats && named && statOrUndefined(named[1])) {
    file = named[1];
    array = named[2];
    stats = statOrUndefined(file);
  }
  if (!stats) throw new InputError(`cannot read inputs '${path}': no such file or folder`);
  if (stats.isDirectory()) {
    if (array !== undefined) throw new UsageError(`an array name applies to .npz inputs; '${path}' is a folder of images`);
    return loadImageFolder(file, options);
  }
  if (!stats.isFile()) throw new InputError(`inputs '${path}' are not a regular file (a FIFO or device?)`);
  // Read as every untrusted file is: refused if it turned into a FIFO since the stat, and bounded.
  const bytes = readRegularFile(file, (why) => new InputError(`cannot read '${file}': ${why}`));
  if (isPng(bytes) || isJpeg(bytes)) {
    if (array !== undefined) throw new UsageError(`an array name applies to .npz inputs; '${path}' is an image`);
    return loadImages([{ name: printable(basename(file)), path: file, bytes: () => bytes }], options);
  }
  const kind = bytes[0] === 0x50 && bytes[1] === 0x4b ? 'npz' : 'npy';
  if (options.preprocess !== undefined) {
    throw new UsageError(`preprocess applies to PNG/JPEG images; '${path}' is a .${kind} file, fed unchanged`);
  }
  try {
    if (kind === 'npz') {
      const read = readNpz(bytes, array);
      return { inputs: asFloat32(read.tensor, `array '${read.name}' of ${file}`), format: 'npz', array: read.name };
    }
    if (array !== undefined) throw new UsageError(`an array name applies to .npz inputs; '${path}' is not a ZIP archive`);
    return { inputs: asFloat32(readNpy(bytes, { adopt: true }), `inputs ${file}`), format: 'npy' };
  } catch (e) {
    if (e instanceof InputError && !e.message.includes(file)) throw new InputError(`${file}: ${e.message}`);
    throw e;
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path); // follows symlinks: a linked folder is a folder
  } catch {
    return undefined;
  }
}

function asFloat32(t: Tensor, what: string): Tensor {
  if (t.dtype === 'float32') return t;
  if (t.dtype === 'float64') return float32(t.shape, t.data as Float64Array);
  throw new InputError(`${what} have dtype ${t.dtype}; models take float32 (float64 is converted)`);
}

/** Code point order, the order of Python's `sorted(os.listdir(folder))`. */
function byCodePoint(a: string, b: string): number {
  const x = Array.from(a, (c) => c.codePointAt(0) as number);
  const y = Array.from(b, (c) => c.codePointAt(0) as number);
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
}

/**
 * A folder's images. Hidden files (a leading dot: .DS_Store, ._x.png) are skipped; any other file
 * that is not .png/.jpg/.jpeg, a subfolder, or a non-regular file is refused, so no file the user
 * meant as a row is silently left out (rows must line up with targets and labels).
 */
function loadImageFolder(folder: string, options: LoadInputsOptions): LoadedInputs {
  const names = readdirSync(folder).filter((n) => !n.startsWith('.')).sort(byCodePoint);
  const refused: string[] = [];
  for (const name of names) {
    const stats = statOrUndefined(join(folder, name));
    if (!stats) refused.push(`'${printable(name)}' (unreadable)`);
    else if (stats.isDirectory()) refused.push(`'${printable(name)}' (a subfolder)`);
    else if (!stats.isFile()) refused.push(`'${printable(name)}' (not a regular file)`);
    else if (!IMAGE_EXTENSIONS.includes(extname(name).toLowerCase())) refused.push(`'${printable(name)}'`);
  }
  if (refused.length > 0) {
    const shown = refused.slice(0, 3).join(', ') + (refused.length > 3 ? ` and ${refused.length - 3} more` : '');
    throw new InputError(`folder '${printable(folder)}' holds ${shown}: only .png, .jpg and .jpeg files are read (hidden files are skipped)`);
  }
  if (names.length === 0) throw new InputError(`folder '${printable(folder)}' holds no .png, .jpg or .jpeg images`);
  return loadImages(
    names.map((name) => ({
      name: printable(name),
      path: join(folder, name),
      bytes: () => readRegularFile(join(folder, name), (why) => new InputError(`cannot read '${join(folder, name)}': ${why}`)),
    })),
    options,
  );
}

interface Geometry {
  channels: number;
  height: number;
  width: number;
  /** The model's layout: NCHW, or one flat row per image (channel-major, like NCHW flattened). */
  flat: boolean;
}

/** Channels and size of every row, from the first image's preprocessed size and the model's input shape. */
function geometryOf(first: DecodedImage, name: string, spec: PreprocessSpec, inputShape: number[] | undefined): Geometry {
  const [rh, rw] = resizedSize(first.height, first.width, spec.resize);
  const { height, width } = cropBoxFor(name, rh, rw, spec);
  if (!inputShape) return { channels: 3, height, width, flat: false };
  const hint = 'set preprocess.resize and preprocess.crop to the size the model takes';
  if (inputShape.length === 3) {
    const [c, h, w] = inputShape;
    if (h !== height || w !== width) {
      throw new InputError(`'${name}' preprocesses to ${height}×${width} pixels but the model takes [${inputShape.join(', ')}] (C, H, W); ${hint}`);
    }
    return { channels: c, height, width, flat: false };
  }
  if (inputShape.length === 1) {
    const c = inputShape[0] / (height * width);
    if (![1, 3, 4].includes(c)) {
      throw new InputError(`'${name}' preprocesses to ${height}×${width} pixels, which ${inputShape[0]} flat features are not 1, 3 or 4 channels of; ${hint}`);
    }
    return { channels: c, height, width, flat: true };
  }
  throw new InputError(`images need a model taking [C, H, W] or flat [C·H·W] inputs; this one takes [${inputShape.join(', ')}]`);
}

function cropBoxFor(name: string, height: number, width: number, spec: PreprocessSpec) {
  try {
    return cropBox(height, width, spec.crop);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`${e.message} ('${name}')`);
    throw e;
  }
}

/** Which RGBA values feed the channels: gray → R, RGB → R, G, B, RGBA → all four. */
function channelOffsets(image: DecodedImage, name: string, channels: number): number[] {
  if (channels !== 1 && channels !== 3 && channels !== 4) {
    throw new InputError(`the model takes ${channels} channels per image; images give 1 (grayscale), 3 (RGB) or 4 (RGBA)`);
  }
  if (channels === 1 && !isGray(image)) {
    throw new InputError(`image '${name}' has colour but the model takes 1 channel; convert the images to grayscale first`);
  }
  if (channels !== 4 && !isOpaque(image)) {
    // Dropping alpha (as PIL's convert('RGB') does) would feed whatever colour hides under transparent pixels.
    throw new InputError(`image '${name}' has transparent pixels but the model takes ${channels === 1 ? 'grayscale' : 'RGB'}; flatten it onto a background first`);
  }
  return channels === 1 ? [0] : channels === 3 ? [0, 1, 2] : [0, 1, 2, 3];
}

function loadImages(entries: { name: string; path: string; bytes: () => Uint8Array }[], options: LoadInputsOptions): LoadedInputs {
  const spec = parsePreprocess(options.preprocess);
  let geometry: Geometry | undefined;
  let data = new Float32Array(0);
  let mean: number[] = [];
  let std: number[] = [];
  let first = '';
  entries.forEach((entry, n) => {
    const image = decodeImage(entry.bytes(), entry.name);
    if (!geometry) {
      geometry = geometryOf(image, entry.name, spec, options.inputShape);
      mean = perChannel('mean', spec.mean, geometry.channels, 0);
      std = perChannel('std', spec.std, geometry.channels, 1);
      data = new Float32Array(entries.length * geometry.channels * geometry.height * geometry.width);
      first = entry.name;
    }
    const g = geometry;
    const [rh, rw] = resizedSize(image.height, image.width, spec.resize);
    const box = cropBoxFor(entry.name, rh, rw, spec);
    if (box.height !== g.height || box.width !== g.width) {
      throw new InputError(
        `'${entry.name}' (${image.width}×${image.height}) preprocesses to ${box.height}×${box.width} pixels but '${first}' to ${g.height}×${g.width}; ` +
          'give preprocess.crop (or resize as [height, width]) so every image has one size',
      );
    }
    const offsets = channelOffsets(image, entry.name, g.channels);
    const plane = g.height * g.width;
    offsets.forEach((offset, c) => {
      const values = resizeWindow({ data: image.rgba, width: image.width, height: image.height, stride: 4, offset }, rh, rw, box);
      const at = (n * g.channels + c) * plane;
      for (let i = 0; i < plane; i++) data[at + i] = (values[i] / image.max - mean[c]) / std[c];
    });
  });
  const g = geometry as Geometry;
  const shape = g.flat ? [entries.length, g.channels * g.height * g.width] : [entries.length, g.channels, g.height, g.width];
  return {
    inputs: { dtype: 'float32', shape, data },
    format: 'images',
    files: entries.map((e) => e.path),
    preprocess: spec,
    pixelRange: pixelRange(spec, g.channels),
  };
}
