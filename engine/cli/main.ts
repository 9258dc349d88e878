/**
 * `aps`: APS Studio on the command line.
 *
 *   aps validate FILE                 shape inference and every problem of the project
 *   aps train FILE [options]          train; weights and history go into the output project
 *   aps evaluate FILE                 test metrics and confusion matrix of the trained weights
 *   aps export FILE --format F --out PATH   safetensors, onnx or pytorch
 *   aps bench [options]               the training benchmark (engine/bench)
 *
 * Exit codes: 0 success, 1 a failed run (invalid project, diverged training, failed
 * export), 2 bad usage.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import '../backends/cpu/register.ts';
import { installNodeGemmThreads } from '../backends/cpu/parallel.node.ts';
import { enableGpuBackend } from '../backends/gpu/register.ts';
import { parseTrainingBackend } from '../session/backend-choice.ts';
import { listBackends } from '../core/backend.ts';
import { setBackend } from '../core/engine.ts';
import type { Dataset } from '../data/dataset.ts';
import { compileGraph, type GraphModel } from '../graph/compile.ts';
import { inferGraph, nodeTitle } from '../graph/infer.ts';
import type { ValueType } from '../graph/types.ts';
import { writeFileAtomic } from '../io/atomic-write.node.ts';
import { exportOnnx } from '../io/onnx/export.ts';
import { dataSettingsOf, type Project, ProjectError, readProject, trainingSettingsOf, writeProject } from '../io/project.ts';
import type { ProjectHistory } from '../io/project-schema.ts';
import { exportPytorch, type TrainPlan } from '../io/pytorch.ts';
import { type SafetensorsFile, toStateEntries, writeSafetensors } from '../io/safetensors.ts';
import type { EpochMetrics } from '../train/metrics.ts';
import type { DataSettings, TrainingSettings } from '../train/settings.ts';
import { type EpochRecord, type StepProgress, Trainer, type TrainResult } from '../train/trainer.ts';
import { commandLineModeOf, trainModeProject } from '../session/mode-session.ts';
import { importLayers, loadInitialWeights, pretrainedStart } from '../train/import-layers.ts';
import { prepareData } from './data.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

class UsageError extends Error {}
class RunFailed extends Error {}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

const HELP: Record<string, string> = {
  main: `aps: APS Studio on the command line

Usage: aps <command> [options]

Commands:
  validate FILE      check a project: shapes of every layer and every problem
  train FILE         train the model and save the weights and history
  evaluate FILE      test-set metrics and confusion matrix of the trained weights
  export FILE        write safetensors, ONNX or PyTorch code
  import SRC FILE    copy trained layers (an encoder) from project SRC into project FILE
  bench              run the training benchmark

Run "aps <command> --help" for a command's options.
Exit codes: 0 success, 1 failed run (invalid project, diverged, failed export), 2 bad usage.`,
  validate: `Usage: aps validate FILE [--json]

Reads the project, checks its file format and settings, infers the shape of every
layer and lists every problem. Exit code 1 when there is a problem.`,
  train: `Usage: aps train FILE [options]

Options:
  --epochs N          train for N epochs (default: the project's setting)
  --backend cpu|gpu|gpu:MODE   compute backend (default cpu); MODE pins gpu.js: webgpu, webgl2, webgl, headlessgl, webasm, cpu
  --out FILE          write the trained project here (default: FILE itself)
  --fresh             start from new weights even if the project has trained ones
  --json              one JSON object per line (step, epoch, done) instead of a progress bar

The trained weights (weights.safetensors) and the run's per-epoch metrics
(history.json) are saved into the output project. Exit code 1 when training diverges.

Projects whose training mode makes its own samples or its own loss (seq2seq, word2vec,
rotation, contrastive, pretrain-transfer) train through that mode from new weights and print
its measured quality on samples it did not train on. pretrain-transfer prints the
autoencoder's reconstruction loss, then the test accuracy of the classifier trained on the
project's few labels from scratch, as a linear probe on the pretrained encoder and fine-tuned,
and the gain; the saved weights are the autoencoder's.`,
  evaluate: `Usage: aps evaluate FILE [--split test|val|train] [--json]

Evaluates the project's trained weights on a split of its data (default: test, or
validation when there is no test split): loss, accuracy, precision, recall, F1 and the
confusion matrix for classification; MSE and MAE for regression.`,
  export: `Usage: aps export FILE --format safetensors|onnx|pytorch --out PATH [--data]

  safetensors   the trained weights under PyTorch state_dict names (PATH: a file)
  onnx          the inference model with its weights, opset 17 (PATH: a file)
  pytorch       model.py, train.py and weights.safetensors (PATH: a folder);
                --data also writes data.safetensors with the project's splits for train.py`,
  import: `Usage: aps import SOURCE FILE --layer ID [options]

Copies the layers of the trained project SOURCE up to and including layer ID (its
inputs too, unless FILE has the same input layer) into project FILE, with their trained
weights (kept in FILE's pretrained.safetensors). Every fresh run of FILE starts those
layers from these weights. Layer ids FILE already uses are renamed ("enc1" -> "enc1_2").

Options:
  --layer ID          the layer whose output the imported layers end with (required)
  --connect ID.PORT   feed the imported output into this input of a layer of FILE
  --freeze            keep the imported weights fixed while FILE trains
  --lr-scale X        fine-tune them at X times the learning rate (default 1)
  --out FILE2         write the result here (default: FILE itself)`,
  bench: `Usage: aps bench [benchmark options]

Runs the training benchmark (engine/bench; the same as "npm run bench"). Its options,
such as --quick and --json, are passed on.`,
};

interface Args {
  positional: string[];
  flags: Map<string, string | true>;
}

const VALUE_FLAGS = new Set(['epochs', 'backend', 'out', 'format', 'split', 'layer', 'connect', 'lr-scale']);

function parseArgs(argv: string[], allowed: string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (!allowed.includes(name)) throw new UsageError(`Unknown option --${name}${allowed.length ? `; this command takes ${allowed.map((f) => `--${f}`).join(', ')}` : ''}`);
    if (VALUE_FLAGS.has(name)) {
      const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value.startsWith('--')) throw new UsageError(`--${name} needs a value`);
      flags.set(name, value);
    } else {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      flags.set(name, true);
    }
  }
  return { positional, flags };
}

function oneFile(args: Args, command: string): string {
  if (args.positional.length !== 1) throw new UsageError(`aps ${command} takes one project file, got ${args.positional.length}`);
  return args.positional[0]!;
}

function openProject(file: string): Project {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(file));
  } catch (err) {
    throw new RunFailed(`Cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  try {
    return readProject(bytes);
  } catch (err) {
    if (err instanceof ProjectError) throw new RunFailed(`${file}: ${err.message}`);
    throw err;
  }
}

function shapeText(t: ValueType | undefined): string {
  if (!t) return '?';
  const dims = t.shape.map((d) => (d < 0 ? 'n' : String(d)));
  return `${t.kind === 'tensor' ? '' : `${t.kind} `}[N${dims.length ? `, ${dims.join(', ')}` : ''}]${t.dtype === 'int32' ? ' int32' : ''}`;
}

// ---------------------------------------------------------------------------------------
// validate

function validate(argv: string[], io: Io): number {
  const args = parseArgs(argv, ['json']);
  const file = oneFile(args, 'validate');
  const project = openProject(file);
  const analysis = inferGraph(project.graph);
  if (args.flags.has('json')) {
    io.out(JSON.stringify({ file, valid: analysis.valid, problems: analysis.problems, totals: analysis.totals, nodes: analysis.nodes }));
    return analysis.valid ? EXIT_OK : EXIT_FAILED;
  }
  io.out(`${project.name} (${file})`);
  const byId = new Map(project.graph.nodes.map((n) => [n.id, n]));
  const rows = analysis.order.map((id) => {
    const info = analysis.nodes[id]!;
    const node = byId.get(id)!;
    return [nodeTitle(node), info.outputs.map(shapeText).join(', '), String(info.paramCount)];
  });
  const w0 = Math.max(5, ...rows.map((r) => r[0]!.length));
  const w1 = Math.max(6, ...rows.map((r) => r[1]!.length));
  io.out(`  ${'layer'.padEnd(w0)}  ${'output'.padEnd(w1)}  params`);
  for (const r of rows) io.out(`  ${r[0]!.padEnd(w0)}  ${r[1]!.padEnd(w1)}  ${r[2]}`);
  io.out(`  ${analysis.totals.params} parameters (${analysis.totals.trainableParams} trainable), ${(analysis.totals.flops / 1e6).toFixed(2)} MFLOPs per sample`);
  if (analysis.valid) {
    io.out('valid');
    return EXIT_OK;
  }
  io.err(`${analysis.problems.length} problem${analysis.problems.length === 1 ? '' : 's'}:`);
  for (const p of analysis.problems) io.err(`  - ${p.nodeId ? `${p.nodeId}: ` : ''}${p.message}`);
  return EXIT_FAILED;
}

// ---------------------------------------------------------------------------------------
// Shared by train, evaluate and export

function compile(project: Project, seed: number): GraphModel {
  const analysis = inferGraph(project.graph);
  if (!analysis.valid) throw new RunFailed(`The model is not valid:\n${analysis.problems.map((p) => `  - ${p.nodeId ? `${p.nodeId}: ` : ''}${p.message}`).join('\n')}`);
  return compileGraph(project.graph, { seed });
}

function loadWeights(model: GraphModel, weights: SafetensorsFile, file: string): void {
  try {
    model.loadStateDict(toStateEntries(weights));
  } catch (err) {
    throw new RunFailed(`${file}: the saved weights do not fit the model: ${(err as Error).message}`);
  }
}

// ---------------------------------------------------------------------------------------
// import

async function importCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['layer', 'connect', 'freeze', 'lr-scale', 'out']);
  if (args.positional.length !== 2) throw new UsageError(`aps import takes a source project and a target project, got ${args.positional.length} file${args.positional.length === 1 ? '' : 's'}`);
  const [sourceFile, file] = args.positional as [string, string];
  const layer = args.flags.get('layer');
  if (typeof layer !== 'string') throw new UsageError('--layer is required: the layer whose output the imported layers end with');
  let lrScale: number | undefined;
  if (args.flags.has('lr-scale')) {
    lrScale = Number(args.flags.get('lr-scale'));
    if (!(lrScale > 0) || !Number.isFinite(lrScale)) throw new UsageError(`--lr-scale must be a number above 0, got "${String(args.flags.get('lr-scale'))}"`);
    if (args.flags.has('freeze')) throw new UsageError('--freeze and --lr-scale contradict each other: frozen layers do not train');
  }
  let connectTo: { node: string; port: string } | undefined;
  const connect = args.flags.get('connect');
  if (typeof connect === 'string') {
    const dot = connect.lastIndexOf('.');
    if (dot <= 0 || dot === connect.length - 1) throw new UsageError(`--connect takes LAYER.PORT, e.g. head.x; got "${connect}"`);
    connectTo = { node: connect.slice(0, dot), port: connect.slice(dot + 1) };
  }
  const source = openProject(sourceFile);
  const project = openProject(file);
  let imported;
  try {
    imported = importLayers({ name: path.basename(sourceFile), graph: source.graph, weights: source.weights, pretrained: source.pretrained }, project.graph, { outputId: layer, mode: args.flags.has('freeze') ? 'freeze' : 'finetune', ...(lrScale !== undefined ? { lrScale } : {}), ...(connectTo ? { connectTo } : {}) });
  } catch (err) {
    throw new RunFailed((err as Error).message);
  }
  const pretrained: SafetensorsFile = { tensors: new Map([...(project.pretrained?.tensors ?? []), ...imported.weights.tensors]), metadata: { ...(project.pretrained?.metadata ?? {}), ...imported.weights.metadata } };
  const ui = { ...project.ui, positions: { ...project.ui.positions } };
  const srcPositions = source.ui.positions;
  const bottom = Math.max(0, ...Object.values(ui.positions).map((p) => p.y));
  for (const [from, to] of imported.ids) {
    const p = srcPositions[from];
    ui.positions[to] = p ? { x: p.x, y: p.y + bottom + 200 } : { x: 0, y: bottom + 200 };
  }
  const out = (args.flags.get('out') as string | undefined) ?? file;
  await writeFileAtomic(path.resolve(out), writeProject({ ...project, graph: imported.graph, pretrained, ui }));
  const renamed = [...imported.ids].filter(([a, b]) => a !== b).map(([a, b]) => `${a} -> ${b}`);
  io.out(`imported ${imported.ids.size} layer${imported.ids.size === 1 ? '' : 's'} (${imported.parameters.toLocaleString('en-US')} trained values) from ${path.basename(sourceFile)} up to ${layer}${renamed.length ? `; renamed ${renamed.join(', ')}` : ''}${imported.reusedInputs.size ? `; fed by ${[...imported.reusedInputs.values()].join(', ')}` : ''}${connectTo ? `; ${imported.outputId} feeds ${connectTo.node}.${connectTo.port}` : ''}; saved to ${out}`);
  const analysis = inferGraph(imported.graph);
  if (!analysis.valid) io.out(`the model is not valid yet:\n${analysis.problems.map((p) => `  - ${p.nodeId ? `${p.nodeId}: ` : ''}${p.message}`).join('\n')}`);
  return EXIT_OK;
}

/** A fresh run: layers imported from other projects (marked pretrained) start from their imported weights. */
function startPretrained(model: GraphModel, project: Project, file: string, json: boolean, io: Io): void {
  let names: string[];
  try {
    names = loadInitialWeights(model, pretrainedStart(project.graph, project.pretrained));
  } catch (err) {
    throw new RunFailed(`${file}: ${(err as Error).message}`);
  }
  if (!names.length || json) return;
  const layers = project.graph.nodes.filter((n) => n.pretrained);
  io.out(`starting ${layers.map((n) => `${n.id}${n.frozen ? ' (frozen)' : n.lrScale ? ` (lr x${n.lrScale})` : ''}`).join(', ')} from pretrained weights (${[...new Set(layers.map((n) => n.pretrained!.split(' › ')[0]))].join(', ')})`);
}

/** The model's state as safetensors tensors; integer buffers are I64, as in PyTorch. */
export function weightsOf(model: GraphModel, metadata: Record<string, string> = {}): SafetensorsFile {
  const tensors: SafetensorsFile['tensors'] = new Map();
  for (const [name, t] of model.stateDict()) {
    const values = t.dataSync();
    const data = values instanceof Int32Array ? BigInt64Array.from(values, (v) => BigInt(v)) : Float32Array.from(values as ArrayLike<number>);
    tensors.set(name, { dtype: data instanceof BigInt64Array ? 'I64' : 'F32', shape: [...t.shape], data });
  }
  return { tensors, metadata: { format: 'pt', ...metadata } };
}

function useBackend(name: string): void {
  const parsed = parseTrainingBackend(name);
  if (typeof parsed === 'string') throw new UsageError(`--${parsed}`);
  if (parsed.gpu && !listBackends().includes('gpu')) {
    try {
      enableGpuBackend(parsed.mode);
    } catch (err) {
      throw new RunFailed(`The gpu backend is not available here${parsed.mode ? ` in gpu.js ${parsed.mode} mode` : ''} (${(err as Error).message}); use --backend cpu${parsed.mode ? ' or another mode' : ''}`);
    }
  }
  setBackend(parsed.gpu ? 'gpu' : 'cpu');
}

function metricsText(m: EpochMetrics): string {
  const parts = [`loss ${m.loss.toFixed(4)}`];
  if (m.accuracy !== undefined) parts.push(`accuracy ${(m.accuracy * 100).toFixed(2)}%`);
  if (m.mse !== undefined) parts.push(`mse ${m.mse.toFixed(4)}`);
  if (m.mae !== undefined) parts.push(`mae ${m.mae.toFixed(4)}`);
  return parts.join(', ');
}

function plainMetrics(m: EpochMetrics): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of ['loss', 'accuracy', 'precision', 'recall', 'f1', 'mse', 'mae'] as const) {
    const v = m[k];
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

function historyRun(result: TrainResult, startedAt: string, data: DataSettings, training: TrainingSettings): ProjectHistory['runs'][number] {
  return {
    id: `run-${startedAt.replace(/[^0-9]/g, '').slice(0, 14)}`,
    startedAt,
    status: result.status,
    settings: JSON.parse(JSON.stringify({ data, training })) as ProjectHistory['runs'][number]['settings'],
    epochs: result.history.map((r: EpochRecord) => {
      const metrics: Record<string, number | null> = { lr: r.lr, duration_sec: r.durationSec };
      for (const [k, v] of Object.entries(plainMetrics(r.train))) metrics[k] = v;
      if (r.val) for (const [k, v] of Object.entries(plainMetrics(r.val))) metrics[`val_${k}`] = v;
      return { epoch: r.epoch, metrics };
    }),
  };
}

function progressBar(p: StepProgress, epochs: number): string {
  const width = 24;
  const frac = p.step / p.stepsPerEpoch;
  const filled = Math.round(frac * width);
  const eta = p.etaSec >= 60 ? `${Math.floor(p.etaSec / 60)}m${String(Math.round(p.etaSec % 60)).padStart(2, '0')}s` : `${Math.round(p.etaSec)}s`;
  return `\repoch ${p.epoch}/${epochs} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${p.step}/${p.stepsPerEpoch} loss ${p.loss.toFixed(4)} ${Math.round(p.samplesPerSec)} samples/s ETA ${eta}  `;
}

// ---------------------------------------------------------------------------------------
// train

async function train(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['epochs', 'backend', 'out', 'fresh', 'json']);
  const file = oneFile(args, 'train');
  const json = args.flags.has('json');
  const out = (args.flags.get('out') as string | undefined) ?? file;
  let epochsOverride: number | undefined;
  if (args.flags.has('epochs')) {
    epochsOverride = Number(args.flags.get('epochs'));
    if (!Number.isInteger(epochsOverride) || epochsOverride < 1) throw new UsageError(`--epochs must be a whole number of at least 1, got "${String(args.flags.get('epochs'))}"`);
  }
  useBackend((args.flags.get('backend') as string | undefined) ?? 'cpu');
  const project = openProject(file);
  if (commandLineModeOf(project.training)) return trainWithMode(project, out, epochsOverride, json, io);
  const settings: TrainingSettings = { ...trainingSettingsOf(project), ...(epochsOverride ? { epochs: epochsOverride } : {}) };
  const model = compile(project, settings.seed);
  const resumed = Boolean(project.weights && !args.flags.has('fresh'));
  if (resumed) loadWeights(model, project.weights!, file);
  else startPretrained(model, project, file, json, io);
  const dataSettings = dataSettingsOf(project);
  const data = await prepareData(dataSettings, path.dirname(path.resolve(file)));
  const startedAt = new Date().toISOString();
  let barShown = false;
  const trainer = new Trainer({
    model,
    data,
    settings,
    augmentation: dataSettings.augmentation,
    onStep(p) {
      if (json) {
        if (p.step === p.stepsPerEpoch || p.globalStep % 10 === 0) io.out(JSON.stringify({ type: 'step', ...p }));
      } else if (io.isTTY) {
        io.err(progressBar(p, settings.epochs));
        barShown = true;
      }
    },
    onEpoch(r) {
      if (json) {
        io.out(JSON.stringify({ type: 'epoch', epoch: r.epoch, train: plainMetrics(r.train), val: r.val ? plainMetrics(r.val) : null, lr: r.lr, durationSec: r.durationSec }));
        return;
      }
      if (barShown) io.err('\r\u001b[K');
      barShown = false;
      io.out(`epoch ${r.epoch}/${settings.epochs}: train ${metricsText(r.train)}${r.val ? `; val ${metricsText(r.val)}` : ''} (${r.durationSec.toFixed(1)}s)`);
    },
  });
  if (!json) io.out(`training ${project.name}: ${data.train.length} training samples, ${data.val.length} validation, ${data.test.length} test; ${settings.epochs} epochs, batch ${settings.batchSize}`);
  const result = await trainer.run();
  if (barShown) io.err('\r\u001b[K');

  const history: ProjectHistory = { runs: [...(project.history?.runs ?? []), historyRun(result, startedAt, dataSettings, settings)] };
  const saved = { ...project, weights: weightsOf(model, { aps_run: history.runs.at(-1)!.id }), history };
  await writeFileAtomic(path.resolve(out), writeProject(saved));
  if (json) {
    io.out(JSON.stringify({ type: 'done', status: result.status, reason: result.reason ?? null, test: result.testMetrics ? plainMetrics(result.testMetrics) : null, out }));
  } else {
    if (result.testMetrics) io.out(`test: ${metricsText(result.testMetrics)}`);
    io.out(`${result.status}${result.reason ? `: ${result.reason}` : ''}; saved to ${out}`);
  }
  if (result.status === 'diverged') {
    if (!json) io.err(result.reason ?? 'Training diverged');
    return EXIT_FAILED;
  }
  return EXIT_OK;
}

/** Trains a project whose course mode makes its own samples or loss (seq2seq, word2vec, rotation, contrastive, pretrain-transfer) and prints its measured quality. */
async function trainWithMode(project: Project, out: string, epochs: number | undefined, json: boolean, io: Io): Promise<number> {
  const startedAt = new Date().toISOString();
  const result = await trainModeProject(project, {
    ...(epochs ? { epochs } : {}),
    onStarted: (e) => !json && io.out(`training ${project.name} (${e.kind} mode): ${e.splits.train} training samples, ${e.splits.val} validation, ${e.splits.test} test; ${e.totalSteps} steps`),
    onEpoch: (epoch, losses) => io.out(json ? JSON.stringify({ type: 'epoch', epoch, losses }) : `epoch ${epoch}: ${Object.entries(losses).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`),
  });
  const settings = { data: project.data, training: { ...project.training, ...(epochs ? { epochs } : {}) } };
  const run = { id: `run-${startedAt.replace(/[^0-9]/g, '').slice(0, 14)}`, startedAt, status: result.status, settings, epochs: result.epochs.map((e) => ({ epoch: e.epoch, metrics: { ...e.losses } })) };
  const history: ProjectHistory = { runs: [...(project.history?.runs ?? []), run] };
  await writeFileAtomic(path.resolve(out), writeProject({ ...project, weights: weightsOf(result.model, { aps_run: run.id }), history }));
  if (json) io.out(JSON.stringify({ type: 'done', status: result.status, reason: result.reason ?? null, quality: result.quality.metrics, out }));
  else {
    for (const line of result.quality.lines) io.out(line);
    io.out(`${result.status}${result.reason ? `: ${result.reason}` : ''} after ${result.steps} steps; saved to ${out}`);
  }
  return result.status === 'diverged' ? EXIT_FAILED : EXIT_OK;
}

// ---------------------------------------------------------------------------------------
// evaluate

async function evaluate(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['split', 'json', 'backend']);
  const file = oneFile(args, 'evaluate');
  useBackend((args.flags.get('backend') as string | undefined) ?? 'cpu');
  const project = openProject(file);
  if (!project.weights) throw new RunFailed(`${file} has no trained weights; run "aps train ${file}" first`);
  const settings = trainingSettingsOf(project);
  const model = compile(project, settings.seed);
  loadWeights(model, project.weights, file);
  const data = await prepareData(dataSettingsOf(project), path.dirname(path.resolve(file)));
  const requested = args.flags.get('split') as string | undefined;
  if (requested !== undefined && !['test', 'val', 'train'].includes(requested)) throw new UsageError(`--split must be test, val or train, got "${requested}"`);
  const splitName = (requested ?? (data.test.length ? 'test' : data.val.length ? 'val' : 'train')) as 'test' | 'val' | 'train';
  const split: Dataset = data[splitName];
  if (split.length === 0) throw new RunFailed(`The ${splitName} split of ${file} is empty; check the data split settings`);
  const trainer = new Trainer({ model, data, settings });
  const m = trainer.evaluate(split);
  if (args.flags.has('json')) {
    io.out(JSON.stringify({ split: splitName, samples: split.length, metrics: plainMetrics(m), confusion: m.confusion ?? null, perClass: m.perClass ?? null }));
    return EXIT_OK;
  }
  io.out(`${project.name}: ${splitName} split, ${split.length} samples`);
  io.out(`  ${metricsText(m)}`);
  if (m.precision !== undefined) io.out(`  precision ${(m.precision * 100).toFixed(2)}%, recall ${(m.recall! * 100).toFixed(2)}%, F1 ${(m.f1! * 100).toFixed(2)}% (macro)`);
  if (m.confusion) {
    const names = split.meta.classNames ?? m.confusion.map((_, i) => String(i));
    const w = Math.max(4, ...names.map((n) => n.length), ...m.confusion.flat().map((v) => String(v).length));
    io.out('  confusion matrix (rows: actual, columns: predicted)');
    io.out(`  ${''.padStart(w)} ${names.map((n) => n.padStart(w)).join(' ')}`);
    m.confusion.forEach((row, i) => io.out(`  ${names[i]!.padStart(w)} ${row.map((v) => String(v).padStart(w)).join(' ')}`));
  }
  return EXIT_OK;
}

// ---------------------------------------------------------------------------------------
// export

export function trainPlanOf(s: TrainingSettings): TrainPlan {
  const o = s.optimizer;
  return {
    epochs: s.epochs,
    batchSize: s.batchSize,
    seed: s.seed,
    optimizer: { type: o.type, lr: o.lr, momentum: o.momentum, weightDecay: o.weightDecay, betas: o.betas, nesterov: o.nesterov },
    schedule: s.schedule.type === 'plateau' ? { type: 'none' } : s.schedule,
    ...(s.clipNorm !== null ? { gradClipNorm: s.clipNorm } : {}),
  };
}

async function exportCommand(argv: string[], io: Io): Promise<number> {
  const args = parseArgs(argv, ['format', 'out', 'data']);
  const file = oneFile(args, 'export');
  const format = args.flags.get('format');
  const out = args.flags.get('out');
  if (typeof format !== 'string' || !['safetensors', 'onnx', 'pytorch'].includes(format)) throw new UsageError('--format must be safetensors, onnx or pytorch');
  if (typeof out !== 'string') throw new UsageError('--out PATH is required');
  const project = openProject(file);
  const settings = trainingSettingsOf(project);
  const model = compile(project, settings.seed);
  if (project.weights) loadWeights(model, project.weights, file);
  else io.err(`note: ${file} has no trained weights; exporting the initial weights`);
  model.eval();
  try {
    if (format === 'safetensors') {
      const w = weightsOf(model);
      await writeFileAtomic(path.resolve(out), writeSafetensors([...w.tensors].map(([k, t]) => [k, t] as const), w.metadata));
    } else if (format === 'onnx') {
      const { bytes, inputs, outputs } = exportOnnx(model, { name: project.name });
      await writeFileAtomic(path.resolve(out), bytes);
      io.out(`inputs: ${inputs.map((i) => `${i.name} ${shapeText(i.type)}`).join(', ')}; outputs: ${outputs.map((o) => `${o.name} ${shapeText(o.type)}`).join(', ')}`);
    } else {
      const result = exportPytorch(project.graph, { name: project.name, plan: trainPlanOf(settings), stateDictKeys: [...model.stateDict().keys()], analysis: model.analysis });
      mkdirSync(out, { recursive: true });
      for (const [name, text] of Object.entries(result.files)) writeFileSync(path.join(out, name), text);
      const w = weightsOf(model);
      writeFileSync(path.join(out, 'weights.safetensors'), writeSafetensors([...w.tensors], w.metadata));
      if (args.flags.has('data')) writeFileSync(path.join(out, 'data.safetensors'), await dataFile(project, file, model));
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new RunFailed(`Export failed: ${(err as Error).message}`);
  }
  io.out(`wrote ${out}`);
  return EXIT_OK;
}

/** train.py's data: "<split>.<input or target node id>" for the train and val splits. */
async function dataFile(project: Project, file: string, model: GraphModel): Promise<Uint8Array> {
  const data = await prepareData(dataSettingsOf(project), path.dirname(path.resolve(file)));
  const tensors: [string, { shape: number[]; data: Float32Array | Int32Array | BigInt64Array }][] = [];
  for (const [name, split] of [['train', data.train], ['val', data.val]] as const) {
    if (split.meta.task === 'graph') throw new Error('graph datasets cannot be written as tensors for train.py');
    for (const id of model.inputIds) tensors.push([`${name}.${id}`, { shape: [split.length, ...split.meta.inputShape], data: split.inputs }]);
    const targets = split.targets instanceof Int32Array ? BigInt64Array.from(split.targets, (v) => BigInt(v)) : split.targets;
    for (const id of model.targetIds) tensors.push([`${name}.${id}`, { shape: [split.length, ...split.meta.targetShape], data: targets }]);
  }
  return writeSafetensors(tensors);
}

// ---------------------------------------------------------------------------------------
// bench

function bench(argv: string[], io: Io): number {
  if (argv.includes('--help')) {
    io.out(HELP.bench!);
    return EXIT_OK;
  }
  const here = path.dirname(fileURLToPath(import.meta.url));
  const script = path.join(here, '..', 'bench', 'main.ts');
  if (!existsSync(script)) throw new RunFailed('The benchmark is not part of this installation');
  const r = spawnSync(process.execPath, ['--import', 'tsx', script, ...argv], { stdio: 'inherit' });
  return r.status ?? EXIT_FAILED;
}

// ---------------------------------------------------------------------------------------

export async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (!command || command === '--help' || command === '-h' || command === 'help') {
      io.out(HELP.main!);
      return command ? EXIT_OK : EXIT_USAGE;
    }
    if (!(command in HELP) || command === 'main') throw new UsageError(`Unknown command "${command}"; the commands are validate, train, evaluate, export, import, bench`);
    if (command !== 'bench' && (rest.includes('--help') || rest.includes('-h'))) {
      io.out(HELP[command]!);
      return EXIT_OK;
    }
    switch (command) {
      case 'validate':
        return validate(rest, io);
      case 'train':
        return await train(rest, io);
      case 'evaluate':
        return await evaluate(rest, io);
      case 'export':
        return await exportCommand(rest, io);
      case 'import':
        return await importCommand(rest, io);
      default:
        return bench(rest, io);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`aps ${command ?? ''}: ${err.message}\n${command && HELP[command] ? HELP[command] : HELP.main}`);
      return EXIT_USAGE;
    }
    io.err(`aps ${command}: ${err instanceof RunFailed || err instanceof ProjectError ? err.message : err instanceof Error ? err.message : String(err)}`);
    return EXIT_FAILED;
  }
}

const isEntry = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isEntry) {
  installNodeGemmThreads();
  const io: Io = { out: (t) => process.stdout.write(`${t}\n`), err: (t) => process.stderr.write(t.startsWith('\r') ? t : `${t}\n`), isTTY: Boolean(process.stderr.isTTY) };
  void main(process.argv.slice(2), io).then((code) => {
    process.exitCode = code;
  });
}

