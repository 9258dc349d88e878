/**
 * The benchmark's workload contract. Each workload trains one model on MNIST batches and
 * describes the same model for the engine, TensorFlow.js and PyTorch, so that one run can
 * put the three side by side. Workload lists live in their own files (workloads-image.ts,
 * workloads-seq.ts) and main.ts concatenates them.
 */
import type * as tfjs from '@tensorflow/tfjs';
import type { Generator } from '../core/random.ts';
import type { Tensor } from '../core/tensor.ts';

/**
 * How a batch of 28x28 digits is shaped for the model: 'flat' [N, 784], 'image' NCHW
 * [N, 1, 28, 28] (NHWC [N, 28, 28, 1] for TensorFlow.js), 'rows' [N, 28, 28] (a sequence of
 * 28 rows of 28 features).
 */
export type InputLayout = 'flat' | 'image' | 'rows';

/**
 * A TensorFlow.js model the benchmark trains: a LayersModel, or a model written with ops on
 * trainable variables (where TensorFlow.js has no such layer). `apply` returns logits [N, 10].
 */
export interface TfModel {
  apply(x: tfjs.Tensor, kwargs: { training: boolean }): unknown;
  dispose(): unknown;
}

/** A model built by the engine: its trainable parameters and its forward pass to logits [N, 10]. */
export interface EngineModel {
  parameters: Tensor[];
  forward(x: Tensor): Tensor;
}

export interface Workload {
  /** Short key used in tables and JSON ('mlp', 'lenet5', ...). */
  id: string;
  /** What is trained, in words. */
  title: string;
  input: InputLayout;
  /** Builds the model with the engine's ops (or nn modules), initialised from `gen`. */
  engine(gen: Generator): EngineModel;
  /** The same model in TensorFlow.js (channels-last for images); omit when it cannot be written there. */
  tfjs?(tf: typeof tfjs): TfModel;
  /**
   * The same model for PyTorch: Python source that assigns `model` (an nn.Module taking the
   * input layout above and returning logits); `torch`, `nn` and `F` are in scope.
   */
  torch?: string;
}
