import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main, type Io } from '../../cli/main.ts';
import { compileGraph } from '../../graph/compile.ts';
import { inferGraph } from '../../graph/infer.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { readProject, writeProject } from '../../io/project.ts';
import type { SafetensorsFile } from '../../io/safetensors.ts';
import { blobs, edge, node, recorder } from '../../session/__tests__/session-fixtures.ts';
import { TrainingSession } from '../../session/training-session.ts';
import { importableOutputs, importLayers, loadInitialWeights, pretrainedStart, suggestedOutput } from '../import-layers.ts';
import type { NamedValues } from '../trainer.ts';

/** The source: VectorInput(2) -> fc1 Linear(16) -> features ReLU -> fc2 Linear(3) -> cross-entropy. */
function source(): ModelGraph {
  return {
    nodes: [node('input', 'VectorInput', { features: 2 }), node('fc1', 'Linear', { out_features: 16 }), node('features', 'ReLU'), node('fc2', 'Linear', { out_features: 3 }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    edges: [edge('input', 'fc1'), edge('fc1', 'features'), edge('features', 'fc2'), edge('fc2', 'loss', 'prediction'), edge('label', 'loss', 'target')],
  };
}

/** The target: the same input feeding a Linear head directly. */
function target(): ModelGraph {
  return {
    nodes: [node('input', 'VectorInput', { features: 2 }), node('head', 'Linear', { out_features: 3 }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    edges: [edge('input', 'head'), edge('head', 'loss', 'prediction'), edge('label', 'loss', 'target')],
  };
}

/** Seeded weights of the source model, as a project's weights file. */
function trainedWeights(graph: ModelGraph, seed = 7): SafetensorsFile {
  const model = compileGraph(graph, { seed });
  const tensors: SafetensorsFile['tensors'] = new Map();
  for (const [name, t] of model.stateDict()) tensors.set(name, { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.dataSync() as Float32Array) });
  return { tensors, metadata: {} };
}

const values = (file: SafetensorsFile, name: string) => Array.from(file.tensors.get(name)!.data as Float32Array);

describe('importLayers', () => {
  it('copies the layers up to the chosen one with their weights, reuses the matching input and wires the head', () => {
    const weights = trainedWeights(source());
    const r = importLayers({ name: 'blobs-mlp.aps', graph: source(), weights }, target(), { outputId: 'features', mode: 'freeze', connectTo: { node: 'head', port: 'x' } });
    expect([...r.ids]).toEqual([['fc1', 'fc1'], ['features', 'features']]);
    expect([...r.reusedInputs]).toEqual([['input', 'input']]);
    expect(r.outputId).toBe('features');
    expect(r.parameters).toBe(16 * 2 + 16);
    expect([...r.weights.tensors.keys()]).toEqual(['fc1.weight', 'fc1.bias']);
    expect(values(r.weights, 'fc1.weight')).toEqual(values(weights, 'fc1.weight'));
    const fc1 = r.graph.nodes.find((n) => n.id === 'fc1')!;
    expect(fc1).toMatchObject({ pretrained: 'blobs-mlp.aps › fc1', frozen: true });
    // A layer without weights is copied but not marked.
    expect(r.graph.nodes.find((n) => n.id === 'features')!.pretrained).toBeUndefined();
    // head now reads the imported features instead of the input.
    const intoHead = r.graph.edges.filter((e) => e.target === 'head');
    expect(intoHead.map((e) => e.source)).toEqual(['features']);
    const analysis = inferGraph(r.graph);
    expect(analysis.problems).toEqual([]);
    expect(analysis.nodes.head!.paramCount).toBe(16 * 3 + 3);
  });

  it('renames layers whose ids the target uses, weights included, and copies an input that does not match', () => {
    const weights = trainedWeights(source());
    const other: ModelGraph = { nodes: [node('input', 'VectorInput', { features: 5 }), node('fc1', 'Linear', { out_features: 4 })], edges: [edge('input', 'fc1')] };
    const r = importLayers({ name: 'a.aps', graph: source(), weights }, other, { outputId: 'features', mode: 'finetune', lrScale: 0.1 });
    expect([...r.ids]).toEqual([['input', 'input_2'], ['fc1', 'fc1_2'], ['features', 'features']]);
    expect(r.reusedInputs.size).toBe(0);
    expect([...r.weights.tensors.keys()]).toEqual(['fc1_2.weight', 'fc1_2.bias']);
    expect(values(r.weights, 'fc1_2.bias')).toEqual(values(weights, 'fc1.bias'));
    expect(r.graph.nodes.find((n) => n.id === 'fc1_2')).toMatchObject({ pretrained: 'a.aps › fc1', lrScale: 0.1 });
    expect(r.graph.nodes.find((n) => n.id === 'fc1_2')!.frozen).toBeUndefined();
    expect(r.graph.edges.map((e) => `${e.source}->${e.target}`)).toEqual(['input->fc1', 'input_2->fc1_2', 'fc1_2->features']);
  });

  it('suggests the feature layer and lists only layers as outputs', () => {
    expect(suggestedOutput(source())).toBe('features');
    const renamed = { ...source(), nodes: source().nodes.map((n) => (n.id === 'features' ? { ...n, id: 'act' } : n)), edges: source().edges.map((e) => ({ ...e, source: e.source === 'features' ? 'act' : e.source, target: e.target === 'features' ? 'act' : e.target })) };
    // Without a telling name: the node feeding the layer before the loss.
    expect(suggestedOutput(renamed)).toBe('act');
    expect(suggestedOutput(renamed, 'fc1')).toBe('fc1');
    expect(importableOutputs(source()).map((n) => n.id)).toEqual(['fc1', 'features', 'fc2']);
  });

  it('refuses with a specific message: no weights, a loss as output, an unknown layer or port', () => {
    expect(() => importLayers({ name: 'new.aps', graph: source() }, target(), { outputId: 'features', mode: 'freeze' })).toThrow(/new\.aps has no trained weights: train it \(and save it\) before importing/);
    const weights = trainedWeights(source());
    expect(() => importLayers({ name: 's.aps', graph: source(), weights }, target(), { outputId: 'loss', mode: 'freeze' })).toThrow(/"loss" in s\.aps is a loss/);
    expect(() => importLayers({ name: 's.aps', graph: source(), weights }, target(), { outputId: 'nope', mode: 'freeze' })).toThrow(/s\.aps has no layer "nope"/);
    expect(() => importLayers({ name: 's.aps', graph: source(), weights }, target(), { outputId: 'features', mode: 'freeze', connectTo: { node: 'head', port: 'q' } })).toThrow(/Layer "head" has no input "q"; its inputs are x/);
    const other = { tensors: new Map([...weights.tensors].filter(([n]) => !n.startsWith('fc1.'))), metadata: {} };
    expect(() => importLayers({ name: 's.aps', graph: source(), weights: other }, target(), { outputId: 'features', mode: 'freeze' })).toThrow(/s\.aps has no trained weights for "fc1"/);
    expect(() => importLayers({ name: 's.aps', graph: source(), weights }, target(), { outputId: 'features', mode: 'finetune', lrScale: 0 })).toThrow(/learning-rate scale must be a number above 0, got 0/);
  });
});

describe('pretrained starts', () => {
  it('a marked layer without pretrained weights, or weights that no longer fit, are named', () => {
    const r = importLayers({ name: 's.aps', graph: source(), weights: trainedWeights(source()) }, target(), { outputId: 'features', mode: 'freeze', connectTo: { node: 'head', port: 'x' } });
    expect(() => pretrainedStart(r.graph, null)).toThrow(/"fc1" is marked pretrained but the project holds no pretrained weights for it/);
    const start = pretrainedStart(r.graph, r.weights);
    expect(start.map((w) => w.name)).toEqual(['fc1.weight', 'fc1.bias']);
    const changed = { ...r.graph, nodes: r.graph.nodes.map((n) => (n.id === 'fc1' ? { ...n, params: { ...n.params, out_features: 8 } } : n)) };
    expect(() => loadInitialWeights(compileGraph(changed, { seed: 0 }), start)).toThrow(/"fc1\.weight" is \[16, 2\], the model's layer needs \[8, 2\]/);
    expect(() => loadInitialWeights(compileGraph(target(), { seed: 0 }), start)).toThrow(/"fc1\.weight" belongs to no layer of this model/);
  });

  it('the project keeps pretrained weights and markers through save and open', () => {
    const r = importLayers({ name: 's.aps', graph: source(), weights: trainedWeights(source()) }, target(), { outputId: 'features', mode: 'freeze', connectTo: { node: 'head', port: 'x' } });
    const bytes = writeProject({ name: 't', graph: r.graph, data: blobs, training: {}, ui: { positions: {}, expanded: [] }, pretrained: r.weights });
    const back = readProject(bytes);
    expect(back.graph.nodes.find((n) => n.id === 'fc1')!.pretrained).toBe('s.aps › fc1');
    expect(back.weights).toBeUndefined();
    expect(values(back.pretrained!, 'fc1.weight')).toEqual(values(r.weights, 'fc1.weight'));
  });

  it('a training run starts imported layers from their weights; frozen ones end as they started', async () => {
    const weights = trainedWeights(source());
    const r = importLayers({ name: 's.aps', graph: source(), weights }, target(), { outputId: 'features', mode: 'freeze', connectTo: { node: 'head', port: 'x' } });
    const rec = recorder();
    const s = new TrainingSession(rec.emit);
    s.handle({ type: 'train-start', runId: 'r', graph: r.graph, data: blobs, training: { epochs: 2, batchSize: 32, optimizer: { lr: 0.05 } }, initialWeights: pretrainedStart(r.graph, r.weights) });
    const fin = await rec.next('train-finished');
    expect(fin.status).toBe('completed');
    expect(fin.testMetrics!.accuracy).toBeGreaterThan(0.8);
    s.handle({ type: 'export-weights', runId: 'r', requestId: 'w' });
    const w = (await rec.next('weights')).tensors;
    const byName = new Map(w.map((t) => [t.name, t.values]));
    expect(byName.get('fc1.weight')).toEqual(values(weights, 'fc1.weight'));
    expect(byName.get('fc1.bias')).toEqual(values(weights, 'fc1.bias'));
    // The head trained from its own initial values.
    const fresh = compileGraph(r.graph, { seed: 0 }).stateDict().get('head.weight')!.dataSync();
    expect(byName.get('head.weight')).not.toEqual(Array.from(fresh));
  });

  it('a run whose initial weights do not fit fails with the reason, before training', async () => {
    const rec = recorder();
    const s = new TrainingSession(rec.emit);
    const wrong: NamedValues[] = [{ name: 'head.weight', shape: [3, 5], values: new Array(15).fill(0) }];
    s.handle({ type: 'train-start', runId: 'x', graph: target(), data: blobs, training: { epochs: 1 }, initialWeights: wrong });
    const failed = await rec.next('train-failed');
    expect(failed.reason).toMatch(/"head\.weight" is \[3, 5\], the model's layer needs \[3, 2\]/);
    expect(rec.events.some((e) => e.type === 'train-started')).toBe(false);
  });
});

describe('aps import', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'aps-import-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  async function run(...argv: string[]) {
    let out = '';
    let err = '';
    const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), isTTY: false };
    return { code: await main(argv, io), out, err };
  }

  it('imports a trained encoder into another project, which then trains with it frozen', async () => {
    const ui = { positions: {}, expanded: [] };
    const src = path.join(dir, 'src.aps');
    const weights = trainedWeights(source());
    writeFileSync(src, writeProject({ name: 'src', graph: source(), data: blobs, training: {}, ui, weights }));
    const tgt = path.join(dir, 'tgt.aps');
    writeFileSync(tgt, writeProject({ name: 'tgt', graph: target(), data: blobs, training: { epochs: 2, batchSize: 32 }, ui }));

    const untrained = path.join(dir, 'untrained.aps');
    writeFileSync(untrained, writeProject({ name: 'u', graph: source(), data: blobs, training: {}, ui }));
    const refused = await run('import', untrained, tgt, '--layer', 'features');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/untrained\.aps has no trained weights/);
    expect((await run('import', src, tgt)).err).toMatch(/--layer is required/);
    expect((await run('import', src, tgt, '--layer', 'features', '--freeze', '--lr-scale', '0.1')).err).toMatch(/--freeze and --lr-scale contradict/);

    const out = path.join(dir, 'tgt-imported.aps');
    const r = await run('import', src, tgt, '--layer', 'features', '--connect', 'head.x', '--freeze', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/imported 2 layers \(48 trained values\) from src\.aps up to features; fed by input; features feeds head\.x; saved to/);
    expect(existsSync(out)).toBe(true);
    const trained = await run('train', out);
    expect(trained.code).toBe(0);
    expect(trained.out).toMatch(/starting fc1 \(frozen\) from pretrained weights \(src\.aps\)/);
    const p = readProject(new Uint8Array(readFileSync(out)));
    expect(values(p.weights!, 'fc1.weight')).toEqual(values(weights, 'fc1.weight'));
    expect(values(p.pretrained!, 'fc1.weight')).toEqual(values(weights, 'fc1.weight'));
  });
});
