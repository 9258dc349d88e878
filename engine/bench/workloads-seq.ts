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
import type { EngineModel, Workload } from './workload.ts';

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
  // TensorFlow.js has no transformer encoder layer.
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
