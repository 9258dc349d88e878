/**
 * Image augmentation applied on the fly to training batches ([C, H, W] float samples):
 * random crop with padding, horizontal flip, rotation, colour jitter, gaussian blur,
 * noise and cutout. Every random choice comes from the given seeded generator.
 */
import { Generator } from '../core/random.ts';

export type Augmentation =
  /** Pads by `padding` zeros on each side and crops back to the original size at a random offset. */
  | { type: 'crop'; padding: number }
  /** Mirrors left-right with probability `p`. */
  | { type: 'flip'; p?: number }
  /** Rotates by a random angle in [-degrees, degrees] around the centre (bilinear, zero fill). */
  | { type: 'rotate'; degrees: number }
  /** Scales brightness by 1 +- brightness and contrast around the mean by 1 +- contrast. */
  | { type: 'jitter'; brightness?: number; contrast?: number }
  /** Gaussian blur with a random sigma in [0.1, sigma], applied with probability `p`. */
  | { type: 'blur'; sigma: number; p?: number }
  /** Adds gaussian noise of standard deviation `std`. */
  | { type: 'noise'; std: number }
  /** Zeroes a random `size` x `size` square with probability `p`. */
  | { type: 'cutout'; size: number; p?: number };

export type AugmentationType = Augmentation['type'];

/** Checks one augmentation's settings; returns messages (empty when valid). */
export function validateAugmentation(a: Augmentation): string[] {
  const errors: string[] = [];
  const nonNeg = (name: string, v: unknown, max = Infinity) => {
    if (typeof v !== 'number' || !(v >= 0 && v <= max)) errors.push(`${a.type}: ${name} must be a number from 0 to ${max}, got ${JSON.stringify(v)}`);
  };
  const prob = (v: unknown) => v === undefined || nonNeg('p', v, 1);
  switch (a.type) {
    case 'crop':
      if (!Number.isInteger(a.padding) || a.padding < 0) errors.push(`crop: padding must be a whole number >= 0, got ${JSON.stringify(a.padding)}`);
      break;
    case 'flip':
      prob(a.p);
      break;
    case 'rotate':
      nonNeg('degrees', a.degrees, 180);
      break;
    case 'jitter':
      if (a.brightness !== undefined) nonNeg('brightness', a.brightness, 1);
      if (a.contrast !== undefined) nonNeg('contrast', a.contrast, 1);
      break;
    case 'blur':
      nonNeg('sigma', a.sigma, 10);
      prob(a.p);
      break;
    case 'noise':
      nonNeg('std', a.std, 10);
      break;
    case 'cutout':
      if (!Number.isInteger(a.size) || a.size < 1) errors.push(`cutout: size must be a whole number >= 1, got ${JSON.stringify(a.size)}`);
      prob(a.p);
      break;
    default:
      errors.push(`Unknown augmentation "${(a as { type: string }).type}"; known: crop, flip, rotate, jitter, blur, noise, cutout`);
  }
  return errors;
}

function crop(src: Float32Array, c: number, h: number, w: number, pad: number, gen: Generator): Float32Array {
  const dy = gen.int(2 * pad + 1) - pad;
  const dx = gen.int(2 * pad + 1) - pad;
  const out = new Float32Array(src.length);
  for (let ch = 0; ch < c; ch++) {
    for (let y = 0; y < h; y++) {
      const sy = y + dy;
      if (sy < 0 || sy >= h) continue;
      for (let x = 0; x < w; x++) {
        const sx = x + dx;
        if (sx >= 0 && sx < w) out[ch * h * w + y * w + x] = src[ch * h * w + sy * w + sx];
      }
    }
  }
  return out;
}

function flip(src: Float32Array, c: number, h: number, w: number): Float32Array {
  const out = new Float32Array(src.length);
  for (let ch = 0; ch < c; ch++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[ch * h * w + y * w + x] = src[ch * h * w + y * w + (w - 1 - x)];
  return out;
}

function rotate(src: Float32Array, c: number, h: number, w: number, degrees: number): Float32Array {
  const a = (degrees * Math.PI) / 180;
  const cos = Math.cos(a);
  const sin = Math.sin(a);
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const out = new Float32Array(src.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // Inverse mapping: where in the source this output pixel comes from.
      const sx = cos * (x - cx) + sin * (y - cy) + cx;
      const sy = -sin * (x - cx) + cos * (y - cy) + cy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      for (let ch = 0; ch < c; ch++) {
        const o = ch * h * w;
        const at = (yy: number, xx: number) => (yy >= 0 && yy < h && xx >= 0 && xx < w ? src[o + yy * w + xx] : 0);
        out[o + y * w + x] = (at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx) * (1 - fy) + (at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx) * fy;
      }
    }
  }
  return out;
}

function jitter(src: Float32Array, c: number, hw: number, brightness: number, contrast: number, gen: Generator): Float32Array {
  const b = 1 + gen.uniform(-brightness, brightness);
  const k = 1 + gen.uniform(-contrast, contrast);
  const out = new Float32Array(src.length);
  for (let ch = 0; ch < c; ch++) {
    let mean = 0;
    for (let i = 0; i < hw; i++) mean += src[ch * hw + i];
    mean = (mean / hw) * b;
    for (let i = 0; i < hw; i++) out[ch * hw + i] = (src[ch * hw + i] * b - mean) * k + mean;
  }
  return out;
}

function blur(src: Float32Array, c: number, h: number, w: number, sigma: number): Float32Array {
  const r = Math.max(1, Math.ceil(2 * sigma));
  const kernel = Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const total = kernel.reduce((a, b) => a + b, 0);
  for (let i = 0; i < kernel.length; i++) kernel[i] /= total;
  const tmp = new Float32Array(src.length);
  const out = new Float32Array(src.length);
  // Separable: rows then columns, with edge values repeated (reflect-free clamp).
  for (let ch = 0; ch < c; ch++) {
    const o = ch * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -r; k <= r; k++) s += kernel[k + r] * src[o + y * w + Math.min(w - 1, Math.max(0, x + k))];
        tmp[o + y * w + x] = s;
      }
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        let s = 0;
        for (let k = -r; k <= r; k++) s += kernel[k + r] * tmp[o + Math.min(h - 1, Math.max(0, y + k)) * w + x];
        out[o + y * w + x] = s;
      }
  }
  return out;
}

/** Applies the augmentations in order to one [C, H, W] sample; returns a new array. */
export function augmentSample(sample: Float32Array, shape: readonly number[], augmentations: readonly Augmentation[], gen: Generator): Float32Array {
  if (shape.length !== 3) throw new Error(`Image augmentation needs [C, H, W] samples, got shape [${shape.join(', ')}]`);
  const [c, h, w] = shape;
  let x = sample;
  for (const a of augmentations) {
    switch (a.type) {
      case 'crop':
        if (a.padding > 0) x = crop(x, c, h, w, a.padding, gen);
        break;
      case 'flip':
        if (gen.random() < (a.p ?? 0.5)) x = flip(x, c, h, w);
        break;
      case 'rotate':
        x = rotate(x, c, h, w, gen.uniform(-a.degrees, a.degrees));
        break;
      case 'jitter':
        x = jitter(x, c, h * w, a.brightness ?? 0, a.contrast ?? 0, gen);
        break;
      case 'blur':
        if (gen.random() < (a.p ?? 0.5)) x = blur(x, c, h, w, gen.uniform(0.1, Math.max(0.1, a.sigma)));
        break;
      case 'noise': {
        const out = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) out[i] = x[i] + gen.normal(0, a.std);
        x = out;
        break;
      }
      case 'cutout': {
        if (gen.random() >= (a.p ?? 1)) break;
        const out = x.slice();
        const y0 = gen.int(h) - Math.floor(a.size / 2);
        const x0 = gen.int(w) - Math.floor(a.size / 2);
        for (let ch = 0; ch < c; ch++)
          for (let y = Math.max(0, y0); y < Math.min(h, y0 + a.size); y++) for (let xx = Math.max(0, x0); xx < Math.min(w, x0 + a.size); xx++) out[ch * h * w + y * w + xx] = 0;
        x = out;
        break;
      }
    }
  }
  return x === sample ? sample.slice() : x;
}

/** Augments every sample of a batch of images [N, C, H, W]; returns a new array. */
export function augmentBatch(inputs: Float32Array, shape: readonly number[], augmentations: readonly Augmentation[], gen: Generator): Float32Array {
  if (augmentations.length === 0) return inputs;
  const per = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(inputs.length);
  for (let i = 0; i * per < inputs.length; i++) out.set(augmentSample(inputs.subarray(i * per, (i + 1) * per), shape, augmentations, gen), i * per);
  return out;
}

/** The same sample augmented `count` times (for the augmentation preview). */
export function previewAugmentation(sample: Float32Array, shape: readonly number[], augmentations: readonly Augmentation[], count: number, seed = 0): Float32Array[] {
  for (const a of augmentations) {
    const errors = validateAugmentation(a);
    if (errors.length) throw new Error(errors.join('; '));
  }
  const gen = new Generator(seed);
  return Array.from({ length: count }, () => augmentSample(sample, shape, augmentations, gen));
}
