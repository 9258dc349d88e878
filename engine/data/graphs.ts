/**
 * Graph datasets: synthetic community graphs for node classification and small
 * molecule-like graphs for graph classification. Edges are stored in both directions.
 */
import { Generator } from '../core/random.ts';
import { checkDataset, type Dataset, type GraphSample } from './dataset.ts';

export interface CommunityOptions {
  nodes?: number;
  communities?: number;
  /** Node feature dimension. */
  features?: number;
  /** Edge probability inside a community and between communities. */
  pIn?: number;
  pOut?: number;
  /** Standard deviation of the feature noise (larger: the structure matters more). */
  noise?: number;
  seed?: number;
}

/**
 * Community graph (a stochastic block model): nodes belong to communities, linked densely
 * inside and sparsely across; each node's features are a noisy copy of its community's
 * centre. Samples are nodes; the whole graph is fed at every step.
 */
export function makeCommunityGraph(opts: CommunityOptions = {}): Dataset {
  const n = opts.nodes ?? 120;
  const k = opts.communities ?? 3;
  const f = opts.features ?? 8;
  const pIn = opts.pIn ?? 0.15;
  const pOut = opts.pOut ?? 0.01;
  const noise = opts.noise ?? 1.0;
  if (!Number.isInteger(n) || n < k) throw new Error(`Community graph: nodes must be an integer of at least communities (${k}), got ${n}`);
  if (!Number.isInteger(k) || k < 2) throw new Error(`Community graph: communities must be an integer of at least 2, got ${k}`);
  if (!Number.isInteger(f) || f < 1) throw new Error(`Community graph: features must be a positive integer, got ${f}`);
  for (const [name, p] of [['pIn', pIn], ['pOut', pOut]] as const) if (!(p >= 0 && p <= 1)) throw new Error(`Community graph: ${name} must be in [0, 1], got ${p}`);
  const gen = new Generator(opts.seed ?? 0);
  const centres = Array.from({ length: k }, () => Array.from({ length: f }, () => gen.normal()));
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) labels[i] = i % k;
  const x = new Float32Array(n * f);
  for (let i = 0; i < n; i++) for (let j = 0; j < f; j++) x[i * f + j] = centres[labels[i]][j] + gen.normal(0, noise);
  const src: number[] = [];
  const dst: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (gen.random() < (labels[i] === labels[j] ? pIn : pOut)) {
        src.push(i, j);
        dst.push(j, i);
      }
    }
  }
  const graph: GraphSample = { numNodes: n, x, edgeSrc: Int32Array.from(src), edgeDst: Int32Array.from(dst) };
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return checkDataset({
    meta: {
      id: 'communities',
      name: 'Communities',
      description: 'Node classification: find the community of each node of a graph from its features and links.',
      task: 'graph',
      inputShape: [f],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: k,
      classNames: Array.from({ length: k }, (_, c) => `community ${c}`),
      preview: 'graph',
      nodeLevel: true,
    },
    length: n,
    inputs: ids,
    targets: labels,
    graphs: [graph],
  });
}

export const ATOM_TYPES = ['C', 'N', 'O', 'S'];

export interface MoleculeOptions {
  graphs?: number;
  minAtoms?: number;
  maxAtoms?: number;
  seed?: number;
}

/**
 * Molecule-like graphs: small trees of atoms (one-hot atom type features), half of them
 * with one bond added that closes a ring. The task is to tell whether a graph has a ring,
 * which needs the structure, not only the atom counts.
 */
export function makeMolecules(opts: MoleculeOptions = {}): Dataset {
  const count = opts.graphs ?? 300;
  const minA = opts.minAtoms ?? 5;
  const maxA = opts.maxAtoms ?? 12;
  if (!Number.isInteger(count) || count < 2) throw new Error(`Molecules: graphs must be an integer of at least 2, got ${count}`);
  if (!Number.isInteger(minA) || minA < 4 || !Number.isInteger(maxA) || maxA < minA) {
    throw new Error(`Molecules: need integers 4 <= minAtoms <= maxAtoms, got ${minA} and ${maxA}`);
  }
  const gen = new Generator(opts.seed ?? 0);
  const f = ATOM_TYPES.length;
  const graphs: GraphSample[] = [];
  const targets = new Int32Array(count);
  for (let g = 0; g < count; g++) {
    const n = minA + gen.int(maxA - minA + 1);
    const ring = g % 2;
    const x = new Float32Array(n * f);
    for (let i = 0; i < n; i++) x[i * f + (gen.random() < 0.6 ? 0 : 1 + gen.int(f - 1))] = 1;
    const src: number[] = [];
    const dst: number[] = [];
    const parent = new Int32Array(n);
    const depth = new Int32Array(n);
    const link = (a: number, b: number) => {
      src.push(a, b);
      dst.push(b, a);
    };
    for (let i = 1; i < n; i++) {
      // Attach to a recent atom so that chains are long enough to close a ring of size >= 3.
      parent[i] = Math.max(0, i - 1 - gen.int(2));
      depth[i] = depth[parent[i]] + 1;
      link(i, parent[i]);
    }
    if (ring) {
      // Close a ring between an atom and its grandparent (atom 3 always has one).
      const deep: number[] = [];
      for (let i = 0; i < n; i++) if (depth[i] >= 2) deep.push(i);
      const a = deep[gen.int(deep.length)];
      const b = parent[parent[a]];
      link(a, b);
    }
    graphs.push({ numNodes: n, x, edgeSrc: Int32Array.from(src), edgeDst: Int32Array.from(dst) });
    targets[g] = ring;
  }
  return checkDataset({
    meta: {
      id: 'molecules',
      name: 'Molecules',
      description: 'Graph classification: tell whether a small molecule-like graph contains a ring.',
      task: 'graph',
      inputShape: [f],
      inputDtype: 'float32',
      targetShape: [],
      targetDtype: 'int32',
      numClasses: 2,
      classNames: ['chain', 'ring'],
      featureNames: ATOM_TYPES,
      preview: 'graph',
    },
    length: count,
    inputs: new Float32Array(0),
    targets,
    graphs,
  });
}
