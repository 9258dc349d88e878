import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compileGraph } from '../../graph/compile.ts';
import type { ModelGraph } from '../../graph/types.ts';
import { exportPytorch, type TrainPlan } from '../pytorch.ts';
import { chain, link, node, withLoss } from './graphs.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'aps-pytorch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const plan: TrainPlan = {
  epochs: 3,
  batchSize: 32,
  seed: 1,
  optimizer: { type: 'adam', lr: 0.001, weightDecay: 0.0001 },
  schedule: { type: 'step', stepSize: 2, gamma: 0.5 },
  gradClipNorm: 1,
};

function parsesAsPython(source: string, name: string): void {
  const file = path.join(dir, name);
  writeFileSync(file, source);
  execFileSync('python3', ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', file], { stdio: 'pipe' });
}

/**
 * The state_dict names PyTorch gives the modules model.py registers, derived from the
 * emitted constructor calls with torch's own naming rules (independent of the engine).
 */
function torchKeys(modelPy: string): string[] {
  const keys: string[] = [];
  const re = /self\.add_module\("([^"]+)", nn\.(\w+)\((.*)\)\)$/gm;
  for (const [, id, cls, args] of modelPy.matchAll(re)) {
    const kw = (k: string, d: string): string => new RegExp(`${k}=(\\w+)`).exec(args!)?.[1] ?? d;
    const p = (names: string[]): void => names.forEach((n) => keys.push(`${id}.${n}`));
    switch (cls) {
      case 'Linear':
      case 'Conv1d':
      case 'Conv2d':
      case 'ConvTranspose2d':
        p(kw('bias', 'True') === 'True' ? ['weight', 'bias'] : ['weight']);
        break;
      case 'BatchNorm1d':
      case 'BatchNorm2d':
        p([...(kw('affine', 'True') === 'True' ? ['weight', 'bias'] : []), ...(kw('track_running_stats', 'True') === 'True' ? ['running_mean', 'running_var', 'num_batches_tracked'] : [])]);
        break;
      case 'LayerNorm':
        p(kw('elementwise_affine', 'True') === 'True' ? ['weight', 'bias'] : []);
        break;
      case 'Embedding':
      case 'PReLU':
        p(['weight']);
        break;
      case 'LSTM':
      case 'GRU':
      case 'RNN': {
        const layers = Number(kw('num_layers', '1'));
        const dirs = kw('bidirectional', 'False') === 'True' ? ['', '_reverse'] : [''];
        for (let l = 0; l < layers; l++)
          for (const d of dirs) p([`weight_ih_l${l}${d}`, `weight_hh_l${l}${d}`, ...(kw('bias', 'True') === 'True' ? [`bias_ih_l${l}${d}`, `bias_hh_l${l}${d}`] : [])]);
        break;
      }
      default:
        break; // parameter-free modules (activations, dropout, pooling, flatten, losses)
    }
  }
  return keys;
}

function exportAndCheck(graph: ModelGraph, name: string): { modelPy: string; trainPy: string; keys: string[] } {
  const model = compileGraph(graph, { seed: 1 });
  const keys = [...model.stateDict().keys()];
  const out = exportPytorch(graph, { name, plan, stateDictKeys: keys });
  parsesAsPython(out.files['model.py'], `${name}-model.py`);
  parsesAsPython(out.files['train.py'], `${name}-train.py`);
  expect(out.files['model.py']).toContain(`STATE_DICT_KEYS = [${keys.map((k) => JSON.stringify(k)).join(', ')}]`);
  return { modelPy: out.files['model.py'], trainPy: out.files['train.py'], keys };
}

describe('PyTorch export', () => {
  it('MLP: valid Python whose state_dict names are the engine\'s', () => {
    const g = withLoss(
      chain([
        node('x', 'VectorInput', { features: 2 }),
        node('fc1', 'Linear', { out_features: 16 }),
        node('act', 'ReLU'),
        node('fc2', 'Linear', { out_features: 8, bias: false }),
        node('prelu', 'PReLU', { num_parameters: 8 }),
        node('step', 'Step'),
        node('out', 'Linear', { out_features: 3 }),
      ]),
      'out',
    );
    const { modelPy, trainPy, keys } = exportAndCheck(g, 'mlp');
    expect(torchKeys(modelPy)).toEqual(keys);
    expect(keys).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'prelu.weight', 'out.weight', 'out.bias']);
    expect(modelPy).toContain('class Step(nn.Module)');
    expect(modelPy).toContain('def forward(self, x, label=None):');
    expect(trainPy).toContain('torch.optim.Adam(model.parameters(), lr=0.001, betas=(0.9, 0.999), weight_decay=0.0001)');
    expect(trainPy).toContain('torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)');
    expect(trainPy).toContain('DistributedDataParallel(model');
  });

  it('recurrent classifier: LSTM and GRU names and the hidden-state output', () => {
    const nodes = [
      node('seq', 'SequenceInput', { length: 5, features: 3 }),
      node('lstm', 'LSTM', { hidden_size: 4, num_layers: 2, bidirectional: true }),
      node('gru', 'GRU', { hidden_size: 3, bias: false }),
      node('fc', 'Linear', { out_features: 2 }),
    ];
    const g = withLoss({ nodes, edges: [link(nodes, 'seq', 'lstm'), link(nodes, 'lstm', 'gru', 0), link(nodes, 'gru', 'fc', 1)] }, 'fc');
    const { modelPy, keys } = exportAndCheck(g, 'rnn');
    expect(torchKeys(modelPy)).toEqual(keys);
    expect(modelPy).toContain('lstm_output, lstm_hidden_state = self._modules["lstm"](seq)');
    expect(modelPy).toContain('lstm_hidden = lstm_hidden_state[0][-2:].transpose(0, 1).reshape(seq.shape[0], -1)');
  });

  it('names the layers it cannot write', () => {
    const g: ModelGraph = { nodes: [node('x', 'VectorInput'), { id: 'blk', type: 'Block', params: {}, subgraph: { nodes: [], edges: [], inputs: [], outputs: [] } }], edges: [] };
    expect(() => exportPytorch(g, { name: 'b', plan, stateDictKeys: [] })).toThrow(/blk \(Block\)|not valid/);
  });
});
