/**
 * The files of Export Weights, made from the project's graph, training settings and
 * trained weights: safetensors and PyTorch code are pure writers; ONNX builds the model
 * once to read its structure, so that part loads on first use.
 */
import { zipSync, strToU8 } from 'fflate';
import type { ModelGraph } from '../../engine/graph/types.ts';
import { toStateEntries, writeSafetensors, type SafetensorsFile } from '../../engine/io/safetensors.ts';
import type { TrainPlan } from '../../engine/io/pytorch.ts';
import type { TrainingSettings } from '../../engine/train/settings.ts';
import type { NamedValues } from '../../engine/train/trainer.ts';

export type ExportFormat = 'safetensors' | 'onnx' | 'pytorch';

export interface ExportedFile {
  fileName: string;
  bytes: Uint8Array;
}

/** A state dict from the engine as a safetensors file; step counters are I64 as in PyTorch. */
export function weightsFile(tensors: readonly NamedValues[], metadata: Record<string, string> = {}): SafetensorsFile {
  const map: SafetensorsFile['tensors'] = new Map();
  for (const t of tensors) {
    const integer = t.name.endsWith('num_batches_tracked');
    map.set(t.name, integer ? { dtype: 'I64', shape: [...t.shape], data: BigInt64Array.from(t.values, (v) => BigInt(Math.round(v))) } : { dtype: 'F32', shape: [...t.shape], data: Float32Array.from(t.values) });
  }
  return { tensors: map, metadata };
}

/** The project's saved weights as a state dict for the engine (the inverse of `weightsFile`). */
export function stateOf(file: SafetensorsFile): NamedValues[] {
  return [...toStateEntries(file)].map(([name, t]) => ({ name, shape: [...t.shape], values: Array.from(t.values) }));
}

/** The training settings as the PyTorch exporter's plan (plateau schedules have no torch twin here). */
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

function stem(name: string): string {
  return name.replace(/\.aps$/i, '').replace(/[^\w.-]+/g, '-') || 'model';
}

export async function exportFile(format: ExportFormat, p: { name: string; graph: ModelGraph; training: TrainingSettings; weights: SafetensorsFile | null }): Promise<ExportedFile> {
  const base = stem(p.name);
  switch (format) {
    case 'safetensors': {
      if (!p.weights) throw new Error('There are no trained weights to export yet; train the model first');
      return { fileName: `${base}.safetensors`, bytes: writeSafetensors(p.weights.tensors, p.weights.metadata) };
    }
    case 'pytorch': {
      const { exportPytorch } = await import('../../engine/io/pytorch.ts');
      const keys = p.weights ? [...p.weights.tensors.keys()] : await stateDictKeys(p.graph, p.training.seed);
      const result = exportPytorch(p.graph, { name: base, plan: trainPlanOf(p.training), stateDictKeys: keys });
      const files: Record<string, Uint8Array> = { 'model.py': strToU8(result.files['model.py']), 'train.py': strToU8(result.files['train.py']) };
      if (p.weights) files['weights.safetensors'] = writeSafetensors(p.weights.tensors, p.weights.metadata);
      return { fileName: `${base}-pytorch.zip`, bytes: zipSync(files) };
    }
    case 'onnx': {
      if (!p.weights) throw new Error('There are no trained weights to export yet; train the model first');
      const model = await compiled(p.graph, p.training.seed);
      const { toStateEntries } = await import('../../engine/io/safetensors.ts');
      const { exportOnnx } = await import('../../engine/io/onnx/export.ts');
      model.loadStateDict(toStateEntries(p.weights));
      model.eval();
      return { fileName: `${base}.onnx`, bytes: exportOnnx(model, { name: base }).bytes };
    }
  }
}

async function compiled(graph: ModelGraph, seed: number) {
  await import('../../engine/backends/cpu/register.ts');
  const { compileGraph } = await import('../../engine/graph/compile.ts');
  return compileGraph(graph, { seed });
}

async function stateDictKeys(graph: ModelGraph, seed: number): Promise<string[]> {
  return [...(await compiled(graph, seed)).stateDict().keys()];
}
