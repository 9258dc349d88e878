/**
 * Standard sequence workloads (d, e) on MNIST digits at batch 64: each image is read as a
 * sequence of 28 rows of 28 pixels. Written for the engine, TensorFlow.js (where it has the
 * layer) and PyTorch.
 */
import type { Tensor } from '../core/tensor.ts';
import { Linear } from '../nn/linear.ts';
import { LSTM } from '../nn/rnn.ts';
import { TransformerEncoder, TransformerEncoderLayer } from '../nn/transformer.ts';
import { squeeze } from '../ops/layout.ts';
import { mean } from '../ops/reduce.ts';
import type * as tfjs from '@tensorflow/tfjs';
import type { EngineModel, TfModel, Workload } from './workload.ts';

/**
 * Workload e in TensorFlow.js ops on trainable variables, as torch.nn.TransformerEncoderLayer
 * computes it (post-norm, ReLU, dropout 0.1 after the attention weights, the attention
 * output, the feed-forward hidden layer and its output; layer norm eps 1e-5).
 */
function tfTransformerRows(tf: typeof tfjs): TfModel {
  const d = 64;
  const heads = 4;
  const ff = 128;
  const vars: tfjs.Variable[] = [];
  // torch.nn.Linear's default: uniform in +-1/sqrt(fan_in), weights stored [in, out] here.
  const linear = (inF: number, outF: number) => {
    const bound = 1 / Math.sqrt(inF);
    const w = tf.variable(tf.randomUniform([inF, outF], -bound, bound));
    const b = tf.variable(tf.randomUniform([outF], -bound, bound));
    vars.push(w, b);
    return (x: tfjs.Tensor) => {
      const shape = x.shape;
      const flat = x.reshape([-1, inF]) as tfjs.Tensor2D;
      return tf.add(tf.matMul(flat, w as tfjs.Tensor2D), b).reshape([...shape.slice(0, -1), outF]);
    };
  };
  const norm = () => {
    const g = tf.variable(tf.ones([d]));
    const b = tf.variable(tf.zeros([d]));
    vars.push(g, b);
    return (x: tfjs.Tensor) => {
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
  };
  const layers = [0, 1].map(() => ({ inProj: linear(d, 3 * d), outProj: linear(d, d), ff1: linear(d, ff), ff2: linear(ff, d), norm1: norm(), norm2: norm() }));
  const embed = linear(28, d);
  const fc = linear(d, 10);
  const drop = (x: tfjs.Tensor, training: boolean) => (training ? tf.dropout(x, 0.1) : x);
  return {
    apply(x, { training }) {
      const [n, t] = x.shape as [number, number, number];
      const dh = d / heads;
      let h = embed(x);
      for (const l of layers) {
        const qkv = l.inProj(h).reshape([n, t, 3, heads, dh]).transpose([2, 0, 3, 1, 4]);
        const [q, k, v] = tf.unstack(qkv) as tfjs.Tensor4D[];
        const weights = drop(tf.softmax(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh))), training) as tfjs.Tensor4D;
        const attn = tf.matMul(weights, v).transpose([0, 2, 1, 3]).reshape([n, t, d]);
        h = l.norm1(tf.add(h, drop(l.outProj(attn), training)));
        const hidden = drop(tf.relu(l.ff1(h)), training);
        h = l.norm2(tf.add(h, drop(l.ff2(hidden), training)));
      }
      return fc(tf.mean(h, 1));
    },
    dispose() {
      vars.forEach((v) => v.dispose());
    },
  };
}

export const lstmRows: Workload = {
  id: 'lstm',
  title: 'd) LSTM over the 28 rows, hidden 128, last hidden state -> Linear 10',
  input: 'rows',
  engine(gen): EngineModel {
    const lstm = new LSTM(28, 128, { batchFirst: true, generator: gen });
    const fc = new Linear(128, 10, { generator: gen });
    return {
      parameters: [...lstm.parameters(), ...fc.parameters()],
      forward: (x: Tensor) => fc.forward(squeeze(lstm.run(x).hN, 0)),
    };
  },
  tfjs: (tf) =>
    tf.sequential({
      layers: [tf.layers.lstm({ inputShape: [28, 28], units: 128 }), tf.layers.dense({ units: 10 })],
    }),
  torch: `class LstmRows(nn.Module):
    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(28, 128, batch_first=True)
        self.fc = nn.Linear(128, 10)
    def forward(self, x):
        _, (h, _) = self.lstm(x)
        return self.fc(h[-1])
model = LstmRows()`,
};

export const transformerRows: Workload = {
  id: 'transformer',
  title: 'e) Linear 28->64, 2-layer transformer encoder (d_model 64, 4 heads, ff 128, dropout 0.1), mean over rows -> Linear 10',
  input: 'rows',
  engine(gen): EngineModel {
    const embed = new Linear(28, 64, { generator: gen });
    const encoder = new TransformerEncoder(() => new TransformerEncoderLayer(64, 4, { dimFeedforward: 128, dropout: 0.1, generator: gen }), 2);
    const fc = new Linear(64, 10, { generator: gen });
    return {
      parameters: [...embed.parameters(), ...encoder.parameters(), ...fc.parameters()],
      forward: (x: Tensor) => fc.forward(mean(encoder.forward(embed.forward(x)), 1)),
    };
  },
  // TensorFlow.js has no transformer encoder layer: the same model written with its ops.
  tfjs: (tf) => tfTransformerRows(tf),
  torch: `class TransformerRows(nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = nn.Linear(28, 64)
        layer = nn.TransformerEncoderLayer(64, 4, dim_feedforward=128, dropout=0.1, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)
        self.fc = nn.Linear(64, 10)
    def forward(self, x):
        return self.fc(self.encoder(self.embed(x)).mean(1))
model = TransformerRows()`,
};

export const seqWorkloads: Workload[] = [lstmRows, transformerRows];
