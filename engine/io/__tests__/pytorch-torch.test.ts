/**
 * The exported model.py under real PyTorch gives the engine's outputs and losses: each model
 * (the bundled examples and graphs with every helper module) is exported with random weights
 * written by writeSafetensors, run by torch on the same batch in eval mode, and compared.
 * train.py runs one epoch on a small data file. All cases share one Python process.
 * Skipped, with the reason in the title, where no Python with torch is found.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator } from '../../core/random.ts';
import { compileGraph, type GraphModel } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { runPython, torch, torchTitle } from '../../testing/torch.node.ts';
import { readProject } from '../project.ts';
import { exportPytorch, type TrainPlan } from '../pytorch.ts';
import { readSafetensors, writeSafetensors, type SafeTensor } from '../safetensors.ts';
import { helpersGraph, seq2seqGraph, vitGraph } from './attention-graphs.ts';
import { randomFeeds, randomiseState, worstRelative } from './model-feeds.ts';

const examplesDir = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../examples');
const dir = mkdtempSync(path.join(tmpdir(), 'aps-torch-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan: TrainPlan = { epochs: 1, batchSize: 4, seed: 3, optimizer: { type: 'adam', lr: 0.01 }, schedule: { type: 'step', stepSize: 1, gamma: 0.5 }, gradClipNorm: 1 };

/** Runs every case's model.py (and train.py where asked) in one Python process. */
const DRIVER = String.raw`
import importlib.util, io, json, os, runpy, sys, traceback, contextlib
import torch
torch.set_num_threads(1)
cases = json.load(open(sys.argv[1]))
for case in cases:
    d = case["dir"]
    try:
        spec = importlib.util.spec_from_file_location("model", os.path.join(d, "model.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules["model"] = mod
        spec.loader.exec_module(mod)
        model = mod.Model()
        mod.load_weights(model, os.path.join(d, "weights.safetensors"))
        model.eval()
        feeds = mod.load_safetensors(os.path.join(d, "inputs.safetensors"))
        with torch.no_grad():
            outs, loss = model(**feeds)
        result = {f"out.{k}": v.float() for k, v in outs.items()}
        if loss is not None:
            result["loss"] = loss.float().reshape(1)
        mod.save_safetensors(result, os.path.join(d, "outputs.safetensors"))
        if case.get("train"):
            cwd = os.getcwd()
            os.chdir(d)
            log = io.StringIO()
            try:
                with contextlib.redirect_stdout(log):
                    runpy.run_path(os.path.join(d, "train.py"), run_name="__main__")
            finally:
                os.chdir(cwd)
            open(os.path.join(d, "train.log"), "w").write(log.getvalue())
    except Exception:
        open(os.path.join(d, "error.txt"), "w").write(traceback.format_exc())
`;

interface Case {
  name: string;
  graph: ModelGraph;
  batch?: number;
  ints?: number;
  train?: boolean;
}

interface Prepared {
  name: string;
  dir: string;
  model: GraphModel;
  outputs: Record<string, Float32Array>;
  shapes: Record<string, number[]>;
  loss: number | null;
  train: boolean;
  weights: Map<string, SafeTensor>;
}

function example(id: string): ModelGraph {
  return readProject(new Uint8Array(readFileSync(path.join(examplesDir, `${id}.aps`)))).graph;
}

function stateTensors(model: GraphModel): Map<string, SafeTensor> {
  const out = new Map<string, SafeTensor>();
  for (const [name, t] of model.stateDict()) {
    const v = t.dataSync();
    out.set(name, v instanceof Int32Array ? { dtype: 'I64', shape: [...t.shape], data: BigInt64Array.from(v, (x) => BigInt(x)) } : { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(v as ArrayLike<number>) });
  }
  return out;
}

/** Integer inputs go to torch as int64 (class indices, token ids), as data.safetensors has them. */
function asFileTensor(shape: number[], values: Float32Array | Int32Array): { shape: number[]; data: Float32Array | BigInt64Array } {
  return { shape, data: values instanceof Int32Array ? BigInt64Array.from(values, (v) => BigInt(v)) : values };
}

function prepare(c: Case, gen: Generator): Prepared {
  const caseDir = path.join(dir, c.name);
  mkdirSync(caseDir, { recursive: true });
  const model = compileGraph(c.graph, { seed: 1 });
  randomiseState(model, gen);
  model.eval();
  const weights = stateTensors(model);
  const out = exportPytorch(c.graph, { name: c.name, plan, stateDictKeys: [...weights.keys()], analysis: model.analysis });
  writeFileSync(path.join(caseDir, 'model.py'), out.files['model.py']);
  writeFileSync(path.join(caseDir, 'train.py'), out.files['train.py']);
  writeFileSync(path.join(caseDir, 'weights.safetensors'), writeSafetensors(weights));

  const batch = c.batch ?? 3;
  const feeds = randomFeeds(model, gen, batch, { ints: c.ints, targets: true });
  writeFileSync(path.join(caseDir, 'inputs.safetensors'), writeSafetensors(Object.entries(feeds).map(([id, f]) => [id, asFileTensor(f.shape, f.values)])));
  const result = model.run(Object.fromEntries(Object.entries(feeds).map(([id, f]) => [id, f.tensor])), { training: false });
  const outputs: Record<string, Float32Array> = {};
  const shapes: Record<string, number[]> = {};
  for (const [id, ts] of Object.entries(result.outputs)) {
    outputs[id] = Float32Array.from(ts[0]!.dataSync() as ArrayLike<number>);
    shapes[id] = [...ts[0]!.shape];
  }

  if (c.train) {
    // train.py's data: "train.<id>" and "val.<id>" for every input and target.
    const data: [string, { shape: number[]; data: Float32Array | BigInt64Array }][] = [];
    for (const part of ['train', 'val']) {
      for (const [id, f] of Object.entries(randomFeeds(model, gen, part === 'train' ? 8 : 4, { ints: c.ints, targets: true }))) data.push([`${part}.${id}`, asFileTensor(f.shape, f.values)]);
    }
    writeFileSync(path.join(caseDir, 'data.safetensors'), writeSafetensors(data));
  }
  return { name: c.name, dir: caseDir, model, outputs, shapes, loss: result.totalLoss ? result.totalLoss.item() : null, train: !!c.train, weights };
}

const cases: Case[] = [
  { name: 'mlp-spirals', graph: example('mlp-spirals'), train: true },
  { name: 'lenet5-mnist', graph: example('lenet5-mnist'), batch: 2 },
  { name: 'resnet-mnist', graph: example('resnet-mnist'), batch: 2, train: true },
  { name: 'lstm-sine-frequency', graph: example('lstm-sine-frequency'), train: true },
  { name: 'transformer-sine-frequency', graph: example('transformer-sine-frequency'), train: true },
  { name: 'conv-autoencoder-mnist', graph: example('conv-autoencoder-mnist'), batch: 2 },
  { name: 'vit', graph: vitGraph(), train: true },
  { name: 'seq2seq', graph: seq2seqGraph(), ints: 7 },
  { name: 'helpers', graph: helpersGraph() },
];

describe(torchTitle('model.py under PyTorch matches the engine'), () => {
  const prepared = new Map<string, Prepared>();

  beforeAll(() => {
    if (!torch) return;
    const gen = new Generator(11);
    for (const c of cases) prepared.set(c.name, prepare(c, gen));
    const list = path.join(dir, 'cases.json');
    writeFileSync(list, JSON.stringify([...prepared.values()].map((p) => ({ dir: p.dir, train: p.train }))));
    const driver = path.join(dir, 'driver.py');
    writeFileSync(driver, DRIVER);
    runPython([driver, list], { timeoutMs: 120_000 });
  }, 180_000);

  it.skipIf(!torch).each(cases.map((c) => [c.name]))('%s: outputs and loss', (name) => {
    const p = prepared.get(name)!;
    const errorFile = path.join(p.dir, 'error.txt');
    if (existsSync(errorFile)) throw new Error(`${name}: model.py failed under torch:\n${readFileSync(errorFile, 'utf8')}`);
    const got = readSafetensors(new Uint8Array(readFileSync(path.join(p.dir, 'outputs.safetensors')))).tensors;
    const ids = Object.keys(p.outputs);
    expect(ids.length).toBeGreaterThan(0);
    expect([...got.keys()].filter((k) => k.startsWith('out.')).sort()).toEqual(ids.map((id) => `out.${id}`).sort());
    for (const id of ids) {
      const t = got.get(`out.${id}`)!;
      expect(t.shape, `${id} shape`).toEqual(p.shapes[id]);
      expect(worstRelative(p.outputs[id]!, t.data as Float32Array), `${name}: output ${id}`).toBeLessThan(1e-4);
    }
    if (p.loss === null) {
      expect(got.has('loss')).toBe(false);
    } else {
      const loss = (got.get('loss')!.data as Float32Array)[0]!;
      expect(Math.abs(loss - p.loss) / (1 + Math.abs(p.loss)), `${name}: loss ${loss} vs engine ${p.loss}`).toBeLessThan(1e-4);
    }
  });

  it.skipIf(!torch).each(cases.filter((c) => c.train).map((c) => [c.name]))('%s: train.py trains an epoch and saves the weights', (name) => {
    const p = prepared.get(name)!;
    const errorFile = path.join(p.dir, 'error.txt');
    if (existsSync(errorFile)) throw new Error(`${name}: failed under torch:\n${readFileSync(errorFile, 'utf8')}`);
    const log = readFileSync(path.join(p.dir, 'train.log'), 'utf8');
    const m = /epoch 1: train loss ([\d.]+), val loss ([\d.]+)/.exec(log);
    expect(m, log).not.toBeNull();
    expect(Number.isFinite(Number(m![1]))).toBe(true);
    const trained = readSafetensors(new Uint8Array(readFileSync(path.join(p.dir, 'trained.safetensors')))).tensors;
    expect([...trained.keys()].sort()).toEqual([...p.weights.keys()].sort());
    // One epoch of Adam moved every trainable weight; counters went up by the step count.
    let changed = 0;
    for (const [k, t] of p.weights) {
      if (t.dtype !== 'F32') continue;
      if (worstRelative(t.data as Float32Array, trained.get(k)!.data as Float32Array) > 1e-6) changed++;
    }
    expect(changed).toBeGreaterThan(0);
  });
});
