/**
 * Synthetic two-dimensional classification sets for MLPs (XOR, spirals, moons, blobs,
 * circles), generated from a seed so a project reproduces its data exactly.
 */
import { Generator } from '../core/random.ts';
import { checkDataset, type Dataset } from './dataset.ts';

export interface Synthetic2dOptions {
  /** Total number of points (spread evenly over the classes). */
  samples?: number;
  /** Standard deviation of the gaussian noise added to each coordinate. */
  noise?: number;
  seed?: number;
  /** Spirals and blobs: number of classes. */
  classes?: number;
  /** Spirals: how far each arm winds (1 is a full turn). */
  turns?: number;
}

type PointFn = (cls: number, k: number, perClass: number, gen: Generator, opts: Required<Synthetic2dOptions>) => [number, number];

export interface Synthetic2dDef {
  id: string;
  name: string;
  description: string;
  defaultClasses: number;
  fixedClasses: boolean;
  defaultNoise: number;
  /** The point function applies the noise itself (as the spread of a blob). */
  noiseInPoint?: boolean;
  point: PointFn;
}

export const SYNTHETIC_2D: Synthetic2dDef[] = [
  {
    id: 'xor',
    name: 'XOR',
    description: 'Points in four quadrants; the class is whether x and y have the same sign. Not linearly separable.',
    defaultClasses: 2,
    fixedClasses: true,
    defaultNoise: 0.1,
    point: (cls, _k, _n, gen) => {
      // Class 0: same sign; class 1: opposite signs.
      const sx = gen.random() < 0.5 ? -1 : 1;
      const sy = cls === 0 ? sx : -sx;
      return [sx * gen.uniform(0.1, 1), sy * gen.uniform(0.1, 1)];
    },
  },
  {
    id: 'spirals',
    name: 'Spirals',
    description: 'Interleaved spiral arms, one per class.',
    defaultClasses: 2,
    fixedClasses: false,
    defaultNoise: 0.05,
    point: (cls, k, n, _gen, o) => {
      const r = (k + 1) / n;
      const t = (cls * 2 * Math.PI) / o.classes + r * o.turns * 2 * Math.PI;
      return [r * Math.sin(t), r * Math.cos(t)];
    },
  },
  {
    id: 'moons',
    name: 'Moons',
    description: 'Two interleaving half circles.',
    defaultClasses: 2,
    fixedClasses: true,
    defaultNoise: 0.1,
    point: (cls, k, n) => {
      const t = (Math.PI * k) / Math.max(1, n - 1);
      return cls === 0 ? [Math.cos(t), Math.sin(t)] : [1 - Math.cos(t), 0.5 - Math.sin(t)];
    },
  },
  {
    id: 'blobs',
    name: 'Blobs',
    description: 'Gaussian clusters, one per class, centred on a circle.',
    defaultClasses: 3,
    fixedClasses: false,
    defaultNoise: 0.35,
    noiseInPoint: true,
    point: (cls, _k, _n, gen, o) => {
      const a = (2 * Math.PI * cls) / o.classes;
      return [2 * Math.cos(a) + gen.normal(0, o.noise), 2 * Math.sin(a) + gen.normal(0, o.noise)];
    },
  },
  {
    id: 'circles',
    name: 'Circles',
    description: 'A small circle inside a large one.',
    defaultClasses: 2,
    fixedClasses: true,
    defaultNoise: 0.05,
    point: (cls, k, n) => {
      const t = (2 * Math.PI * k) / n;
      const r = cls === 0 ? 1 : 0.5;
      return [r * Math.cos(t), r * Math.sin(t)];
    },
  },
];

/** Generates one of the synthetic 2-D sets: inputs [2] float, targets class index. */
export function makeSynthetic2d(def: Synthetic2dDef, options: Synthetic2dOptions = {}): Dataset {
  const classes = def.fixedClasses ? def.defaultClasses : (options.classes ?? def.defaultClasses);
  const o: Required<Synthetic2dOptions> = {
    samples: options.samples ?? 400,
    noise: options.noise ?? def.defaultNoise,
    seed: options.seed ?? 0,
    classes,
    turns: options.turns ?? 1.25,
  };
  if (!(o.turns > 0 && o.turns <= 5)) throw new Error(`${def.name}: turns must be above 0 and at most 5, got ${o.turns}`);
  if (!Number.isInteger(o.samples) || o.samples < classes) throw new Error(`${def.name}: samples must be an integer of at least ${classes}, got ${o.samples}`);
  if (!Number.isInteger(classes) || classes < 2 || classes > 10) throw new Error(`${def.name}: classes must be an integer from 2 to 10, got ${classes}`);
  if (!(o.noise >= 0)) throw new Error(`${def.name}: noise must be >= 0, got ${o.noise}`);
  const gen = new Generator(o.seed);
  const inputs = new Float32Array(o.samples * 2);
  const targets = new Int32Array(o.samples);
  for (let i = 0; i < o.samples; i++) {
    const cls = i % classes;
    const k = Math.floor(i / classes);
    const perClass = Math.ceil((o.samples - cls) / classes);
    let [x, y] = def.point(cls, k, perClass, gen, o);
    if (!def.noiseInPoint) {
      x += gen.normal(0, o.noise);
      y += gen.normal(0, o.noise);
    }
    inputs[2 * i] = x;
    inputs[2 * i + 1] = y;
    targets[i] = cls;
  }
  return checkDataset({
    meta: {
      id: def.id,
      name: def.name,
      description: def.description,
      task: 'classification',
      inputShape: [2],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: classes,
      classNames: Array.from({ length: classes }, (_, c) => `class ${c}`),
      featureNames: ['x', 'y'],
      preview: 'points',
    },
    length: o.samples,
    inputs,
    targets,
  });
}
