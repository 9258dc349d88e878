/**
 * The built-in datasets: `listDatasets()` for the picker, `loadDataset(id, options)` to
 * load one, and `previewDataset` for a few samples as images, points, rows, sequences,
 * text or graphs.
 */
import { type Dataset, type DatasetMeta, type DatasetTask, inputSize, type PreviewKind } from './dataset.ts';
import { makeCommunityGraph, makeMolecules } from './graphs.ts';
import { loadMnist } from './mnist.ts';
import { decodeTokens, makeCharText, makeParity, makeReverse, makeSine, makeSineFrequency } from './sequences.ts';
import { makeSynthetic2d, SYNTHETIC_2D } from './synthetic.ts';

/** Loader options are plain JSON (they are stored in project files). */
export type DatasetOptions = Record<string, number | string | boolean>;

export interface DatasetInfo {
  id: string;
  name: string;
  description: string;
  task: DatasetTask;
  preview: PreviewKind;
  /** Options the loader accepts, with their defaults. */
  options: DatasetOptions;
}

interface Entry extends DatasetInfo {
  load(options: DatasetOptions): Dataset | Promise<Dataset>;
}

function num(options: DatasetOptions, key: string): number | undefined {
  const v = options[key];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`Dataset option "${key}" must be a finite number, got ${JSON.stringify(v)}`);
  return v;
}

const ENTRIES: Entry[] = [
  ...SYNTHETIC_2D.map(
    (def): Entry => ({
      id: def.id,
      name: def.name,
      description: def.description,
      task: 'classification',
      preview: 'points',
      options: { samples: 400, noise: def.defaultNoise, seed: 0, ...(def.fixedClasses ? {} : { classes: def.defaultClasses }), ...(def.id === 'spirals' ? { turns: 1.25 } : {}) },
      load: (o) => makeSynthetic2d(def, { samples: num(o, 'samples'), noise: num(o, 'noise'), seed: num(o, 'seed'), classes: num(o, 'classes'), turns: num(o, 'turns') }),
    }),
  ),
  {
    id: 'mnist',
    name: 'MNIST digits',
    description: 'Handwritten digits 0-9, 28x28 greyscale (10,000 samples).',
    task: 'classification',
    preview: 'image',
    options: { samples: 10000, seed: 0 },
    load: (o) => loadMnist({ samples: num(o, 'samples'), seed: num(o, 'seed') }),
  },
  {
    id: 'sine',
    name: 'Sine continuation',
    description: 'Predict the next value of a sine wave.',
    task: 'regression',
    preview: 'sequence',
    options: { samples: 512, seqLen: 20, noise: 0, seed: 0 },
    load: (o) => makeSine({ samples: num(o, 'samples'), seqLen: num(o, 'seqLen'), noise: num(o, 'noise'), seed: num(o, 'seed') }),
  },
  {
    id: 'sine-frequency',
    name: 'Sine frequency',
    description: 'Classify a noisy sine wave as slow, medium or fast.',
    task: 'classification',
    preview: 'sequence',
    options: { samples: 600, seqLen: 32, noise: 0.1, seed: 0 },
    load: (o) => makeSineFrequency({ samples: num(o, 'samples'), seqLen: num(o, 'seqLen'), noise: num(o, 'noise'), seed: num(o, 'seed') }),
  },
  {
    id: 'parity',
    name: 'Parity',
    description: 'Whether a bit sequence holds an odd number of ones.',
    task: 'classification',
    preview: 'sequence',
    options: { samples: 512, seqLen: 8, seed: 0 },
    load: (o) => makeParity({ samples: num(o, 'samples'), seqLen: num(o, 'seqLen'), seed: num(o, 'seed') }),
  },
  {
    id: 'reverse',
    name: 'Reverse digits',
    description: 'Sequence to sequence: output the input digits reversed.',
    task: 'sequence',
    preview: 'sequence',
    options: { samples: 512, seqLen: 6, seed: 0 },
    load: (o) => makeReverse({ samples: num(o, 'samples'), seqLen: num(o, 'seqLen'), seed: num(o, 'seed') }),
  },
  {
    id: 'text-chars',
    name: 'Lighthouse (characters)',
    description: 'A short story for character-level language models.',
    task: 'sequence',
    preview: 'text',
    options: { seqLen: 32, stride: 8 },
    load: (o) => makeCharText({ seqLen: num(o, 'seqLen'), stride: num(o, 'stride') }),
  },
  {
    id: 'communities',
    name: 'Communities',
    description: 'Node classification on a graph of communities.',
    task: 'graph',
    preview: 'graph',
    options: { nodes: 120, communities: 3, features: 8, pIn: 0.15, pOut: 0.01, noise: 1, seed: 0 },
    load: (o) =>
      makeCommunityGraph({
        nodes: num(o, 'nodes'),
        communities: num(o, 'communities'),
        features: num(o, 'features'),
        pIn: num(o, 'pIn'),
        pOut: num(o, 'pOut'),
        noise: num(o, 'noise'),
        seed: num(o, 'seed'),
      }),
  },
  {
    id: 'molecules',
    name: 'Molecules',
    description: 'Graph classification: does a molecule-like graph contain a ring?',
    task: 'graph',
    preview: 'graph',
    options: { graphs: 300, minAtoms: 5, maxAtoms: 12, seed: 0 },
    load: (o) => makeMolecules({ graphs: num(o, 'graphs'), minAtoms: num(o, 'minAtoms'), maxAtoms: num(o, 'maxAtoms'), seed: num(o, 'seed') }),
  },
];

/** The built-in datasets, for the dataset picker. */
export function listDatasets(): DatasetInfo[] {
  return ENTRIES.map(({ load: _load, ...info }) => ({ ...info, options: { ...info.options } }));
}

/** Loads a built-in dataset; unknown options are refused by name. */
export async function loadDataset(id: string, options: DatasetOptions = {}): Promise<Dataset> {
  const entry = ENTRIES.find((e) => e.id === id);
  if (!entry) throw new Error(`Unknown dataset "${id}"; available: ${ENTRIES.map((e) => e.id).join(', ')}`);
  for (const key of Object.keys(options)) {
    if (!(key in entry.options)) throw new Error(`Dataset "${id}" has no option "${key}"; its options are: ${Object.keys(entry.options).join(', ')}`);
  }
  return entry.load(options);
}

// ---------------------------------------------------------------------------------------
// Previews

export type DatasetPreview =
  | { kind: 'image'; width: number; height: number; channels: number; samples: { pixels: number[]; label: string }[] }
  | { kind: 'points'; featureNames: string[]; points: { x: number; y: number; label: string; cls: number }[] }
  | { kind: 'rows'; columns: string[]; rows: { values: number[]; label: string }[] }
  | { kind: 'sequence'; samples: { values: number[][]; target: string }[] }
  | { kind: 'text'; samples: { input: string; target: string }[] }
  | { kind: 'graph'; graphs: { nodes: number; edges: [number, number][]; nodeLabels?: string[]; label: string }[] };

export interface PreviewResult {
  meta: DatasetMeta;
  length: number;
  preview: DatasetPreview;
}

function targetLabel(ds: Dataset, i: number): string {
  const { meta } = ds;
  const ts = meta.targetShape.reduce((a, b) => a * b, 1);
  const t = ds.targets.subarray(i * ts, (i + 1) * ts);
  if (meta.vocab) return decodeTokens(t, meta.vocab);
  if (meta.classNames && ts === 1) return meta.classNames[t[0]] ?? String(t[0]);
  return Array.from(t, (v) => +v.toFixed(4)).join(', ');
}

/** A few samples of a dataset in a form the UI can draw; `count` points for 2-D sets. */
export function previewDataset(ds: Dataset, count = 8): PreviewResult {
  const { meta } = ds;
  const n = Math.min(count, ds.length);
  const is = inputSize(meta);
  const sample = (i: number) => Array.from(ds.inputs.subarray(i * is, (i + 1) * is));
  let preview: DatasetPreview;
  switch (meta.preview) {
    case 'image': {
      const [c, h, w] = meta.inputShape;
      preview = { kind: 'image', width: w, height: h, channels: c, samples: Array.from({ length: n }, (_, i) => ({ pixels: sample(i), label: targetLabel(ds, i) })) };
      break;
    }
    case 'points':
      preview = {
        kind: 'points',
        featureNames: meta.featureNames ?? ['x', 'y'],
        points: Array.from({ length: n }, (_, i) => ({ x: ds.inputs[i * is], y: ds.inputs[i * is + 1], label: targetLabel(ds, i), cls: ds.targets[i] })),
      };
      break;
    case 'rows':
      preview = { kind: 'rows', columns: meta.featureNames ?? [], rows: Array.from({ length: n }, (_, i) => ({ values: sample(i), label: targetLabel(ds, i) })) };
      break;
    case 'text':
      preview = { kind: 'text', samples: Array.from({ length: n }, (_, i) => ({ input: decodeTokens(sample(i), meta.vocab ?? []), target: targetLabel(ds, i) })) };
      break;
    case 'sequence': {
      const f = meta.inputShape.length > 1 ? meta.inputShape[meta.inputShape.length - 1] : 1;
      preview = {
        kind: 'sequence',
        samples: Array.from({ length: n }, (_, i) => {
          const v = sample(i);
          return { values: Array.from({ length: v.length / f }, (_, t) => v.slice(t * f, (t + 1) * f)), target: targetLabel(ds, i) };
        }),
      };
      break;
    }
    case 'graph': {
      const graphs = ds.graphs ?? [];
      const edgesOf = (g: (typeof graphs)[number]) => {
        const edges: [number, number][] = [];
        for (let e = 0; e < g.edgeSrc.length; e++) if (g.edgeSrc[e] < g.edgeDst[e]) edges.push([g.edgeSrc[e], g.edgeDst[e]]);
        return edges;
      };
      if (meta.nodeLevel) {
        const g = graphs[0];
        preview = {
          kind: 'graph',
          graphs: [{ nodes: g.numNodes, edges: edgesOf(g), nodeLabels: Array.from(ds.targets, (t) => meta.classNames?.[t] ?? String(t)), label: meta.name }],
        };
      } else {
        preview = { kind: 'graph', graphs: graphs.slice(0, n).map((g, i) => ({ nodes: g.numNodes, edges: edgesOf(g), label: targetLabel(ds, i) })) };
      }
      break;
    }
  }
  return { meta, length: ds.length, preview };
}
