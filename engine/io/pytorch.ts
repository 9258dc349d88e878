/**
 * PyTorch code export: `model.py`, an nn.Module whose state_dict names match the engine's
 * (and so the safetensors file): each node's module is registered under the node id and
 * the forward pass walks the graph in topological order; and `train.py`, which trains it
 * with the project's loss, optimiser and schedule, on one process or, under torchrun
 * (WORLD_SIZE set), data-parallel with DistributedDataParallel.
 *
 * The module expressions come from the layer catalogue (`LayerDef.torch`); this file adds
 * the forward-call conventions of multi-output layers and the helper modules that torch
 * does not have.
 */
import { getLayer, inputPorts, outputPorts, resolvedParams } from '../graph/catalogue.ts';
import { inferGraph } from '../graph/infer.ts';
import type { GraphAnalysis, GraphNode, ModelGraph, ValueType } from '../graph/types.ts';

export class PytorchExportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PytorchExportError';
  }
}

/** What train.py needs from the project's training settings. */
export interface TrainPlan {
  epochs: number;
  batchSize: number;
  seed: number;
  optimizer: { type: 'sgd' | 'adam' | 'adamw' | 'rmsprop'; lr: number; momentum?: number; weightDecay?: number; betas?: [number, number]; nesterov?: boolean };
  schedule?: { type: 'none' } | { type: 'step'; stepSize: number; gamma: number } | { type: 'exponential'; gamma: number } | { type: 'cosine'; tMax: number; etaMin?: number };
  gradClipNorm?: number;
}

export interface PytorchExport {
  files: { 'model.py': string; 'train.py': string };
  /** The state_dict names model.py produces, in order. */
  stateDictKeys: string[];
}

const PY_KEYWORDS = new Set(
  'False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield self torch nn F math terms loss edge_index batch'.split(' '),
);

function py(v: unknown): string {
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  if (v === null || v === undefined) return 'None';
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${py(x)}`).join(', ')}}`;
}

/** Python identifiers for node ids, unique and not keywords. */
function identifiers(nodes: GraphNode[]): Map<string, string> {
  const used = new Set<string>();
  const out = new Map<string, string>();
  for (const n of nodes) {
    let base = n.id.replace(/[^A-Za-z0-9_]/g, '_');
    if (!/^[A-Za-z_]/.test(base)) base = `n_${base}`;
    if (PY_KEYWORDS.has(base)) base = `${base}_`;
    let name = base;
    for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
    used.add(name);
    out.set(n.id, name);
  }
  return out;
}

const HELPERS: Record<string, string> = {
  Step: `class Step(nn.Module):
    """1 where the input is positive, else 0."""

    def forward(self, x):
        return (x > 0).to(x.dtype)
`,
  Sign: `class Sign(nn.Module):
    def forward(self, x):
        return torch.sign(x)
`,
  GaussianKL: `class GaussianKL(nn.Module):
    """KL(N(mu, exp(logvar)) || N(0, 1)) summed over features, averaged over the batch."""

    def forward(self, mu, logvar):
        return -0.5 * torch.mean(torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1))
`,
  Reparameterize: `def reparameterize(mu, logvar, sample=True):
    """z = mu + exp(logvar / 2) * eps, and the KL divergence to N(0, 1) per sample."""
    z = mu + torch.exp(0.5 * logvar) * torch.randn_like(mu) if sample else mu
    kl = -0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1)
    return z, kl
`,
  PositionalEncoding: `class PositionalEncoding(nn.Module):
    """Adds a position signal to a batch-first sequence, then dropout: fixed sinusoids
    (pe[t, 2i] = sin(t / 10000^(2i/d)), pe[t, 2i+1] = cos(...)) or a learned table."""

    def __init__(self, d_model, max_len=512, mode="sinusoidal", dropout=0.0):
        super().__init__()
        self.mode = mode
        self.dropout = nn.Dropout(dropout)
        if mode == "learned":
            self.weight = nn.Parameter(torch.randn(max_len, d_model))
        else:
            # Computed in float64 so that long positions keep their float32 accuracy.
            position = torch.arange(max_len, dtype=torch.float64).unsqueeze(1)
            div = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float64) * (-math.log(10000.0) / d_model))
            pe = torch.zeros(max_len, d_model, dtype=torch.float64)
            pe[:, 0::2] = torch.sin(position * div)
            pe[:, 1::2] = torch.cos(position * div)[:, : d_model // 2]
            self.register_buffer("pe", pe.float(), persistent=False)

    def forward(self, x):
        table = self.weight if self.mode == "learned" else self.pe
        return self.dropout(x + table[: x.shape[1]])
`,
  PatchEmbedding: `class PatchEmbedding(nn.Module):
    """ViT patch embedding: patches projected by a strided convolution, a class token, positions."""

    def __init__(self, in_channels, embed_dim, patch_size, num_patches, cls_token=True):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim)) if cls_token else None
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + (1 if cls_token else 0), embed_dim))
        self.proj = nn.Conv2d(in_channels, embed_dim, patch_size, stride=patch_size)

    def forward(self, x):
        t = self.proj(x).flatten(2).transpose(1, 2)
        if self.cls_token is not None:
            t = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), t], dim=1)
        return t + self.pos_embed[:, : t.shape[1]]
`,
  DeepSets: `class DeepSets(nn.Module):
    """rho(pool(phi(x_i))) over the elements of each set: x [N, set_size, features] -> [N, out_features]."""

    def __init__(self, in_features, hidden, out_features, pool="sum"):
        super().__init__()
        self.phi = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden))
        self.rho = nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, out_features))
        self.pool = pool

    def forward(self, x):
        e = self.phi(x)
        pooled = e.sum(dim=1) if self.pool == "sum" else e.mean(dim=1) if self.pool == "mean" else e.amax(dim=1)
        return self.rho(pooled)
`,
  causal_mask: `def causal_mask(size, device):
    """[size, size] float mask: -inf above the diagonal, so position i attends to positions <= i."""
    return torch.triu(torch.full((size, size), float("-inf"), device=device), diagonal=1)
`,
};

const GRAPH_TYPES = new Set(['GCNConv', 'GATConv', 'GraphReadout']);

interface NodeCode {
  init?: string;
  lines: string[];
  helpers: string[];
}

/** The forward-pass code of one node. `outs` are the Python names of its outputs. */
function nodeCode(node: GraphNode, info: GraphAnalysis['nodes'][string], args: string[], outs: string[], m: string): NodeCode {
  const def = getLayer(node.type);
  const params = resolvedParams(node);
  if (!def.torch) throw new PytorchExportError(`${node.id} (${node.type}): this layer type has no PyTorch form yet`);
  const code = def.torch({ inputs: info.inputs, params, node, args });
  const helpers = HELPERS[node.type] ? [node.type] : [];
  if (code.functional) {
    if (node.type === 'Reparameterize') {
      return { lines: [`${outs.join(', ')} = reparameterize(${args.join(', ')}, sample=self.training or ${py(params.sample_in_eval === true)})`], helpers };
    }
    if (node.type === 'GraphReadout') return { lines: [`${outs[0]} = ${code.expr}`], helpers };
    return { lines: [`${outs[0]} = ${code.expr}`], helpers };
  }
  // Catalogue hints like "Step()  # torch: ..." carry a comment after the expression.
  let init = code.module.replace(/\s+#.*$/, '');
  const x = args[0];
  switch (node.type) {
    case 'LSTM':
    case 'GRU':
    case 'RNN': {
      const dirs = params.bidirectional ? 2 : 1;
      const h = node.type === 'LSTM' ? `${outs[1]}_state[0]` : `${outs[1]}_state`;
      return {
        init,
        lines: [
          `${outs[0]}, ${outs[1]}_state = ${m}(${x})`,
          `${outs[1]} = ${h}[-${dirs}:].transpose(0, 1).reshape(${x}.shape[0], -1)  # last layer, directions side by side`,
        ],
        helpers,
      };
    }
    case 'MultiheadAttention': {
      const q = args[0];
      const k = args[1] || q;
      const v = args[2] || k;
      const mask = params.causal === true ? `, attn_mask=causal_mask(${q}.shape[1], ${q}.device)` : '';
      return { init, lines: [`${outs[0]}, ${outs[1]} = ${m}(${q}, ${k}, ${v}, need_weights=True${mask})`], helpers: params.causal === true ? ['causal_mask'] : helpers };
    }
    case 'TransformerEncoderLayer':
      if (params.causal === true) return { init, lines: [`${outs[0]} = ${m}(${x}, src_mask=causal_mask(${x}.shape[1], ${x}.device))`], helpers: ['causal_mask'] };
      return { init, lines: [`${outs[0]} = ${m}(${x})`], helpers };
    case 'TransformerDecoderLayer': {
      const causal = params.causal !== false;
      return {
        init,
        lines: causal
          ? [`${outs[0]} = ${m}(${args[0]}, ${args[1]}, tgt_mask=causal_mask(${args[0]}.shape[1], ${args[0]}.device))`]
          : [`${outs[0]} = ${m}(${args[0]}, ${args[1]})`],
        helpers: causal ? ['causal_mask'] : helpers,
      };
    }
    case 'PatchEmbedding': {
      const [c, hh, ww] = info.inputs[0]!.shape as [number, number, number];
      const p = Number(params.patch_size);
      init = `PatchEmbedding(${c}, ${Number(params.embed_dim)}, ${p}, ${(hh / p) * (ww / p)}, cls_token=${py(params.cls_token !== false)})`;
      return { init, lines: [`${outs[0]} = ${m}(${x})`], helpers };
    }
    case 'GCNConv':
    case 'GATConv':
      return { init, lines: [`${outs[0]} = ${m}(${x}, edge_index)`], helpers };
    case 'PositionalEncoding':
      init = `PositionalEncoding(${info.inputs[0]!.shape[1]}, max_len=${Number(params.max_len)}, mode=${py(String(params.mode))}, dropout=${Number(params.dropout ?? 0)})`;
      return { init, lines: [`${outs[0]} = ${m}(${x})`], helpers };
    case 'CrossEntropyLoss': {
      // Per-time-step scores [N, T, C] go to torch as [N*T, C].
      const perStep = (info.inputs[0]?.shape.length ?? 1) > 1;
      const pred = perStep ? `${args[0]}.reshape(-1, ${args[0]}.shape[-1])` : args[0];
      const target = perStep ? `${args[1]}.reshape(-1).long()` : `${args[1]}.long()`;
      return { init, lines: [`${outs[0]} = ${m}(${pred}, ${target})`], helpers };
    }
    case 'BCELoss':
    case 'BCEWithLogitsLoss':
    case 'MSELoss':
      return { init, lines: [`${outs[0]} = ${m}(${args[0]}, ${args[1]}.to(${args[0]}.dtype).reshape(${args[0]}.shape))`], helpers };
    default:
      return { init, lines: [`${outs[0]} = ${m}(${args.filter((a) => a !== '').join(', ')})`], helpers };
  }
}

function indent(lines: string[], n: number): string {
  return lines.map((l) => (l ? ' '.repeat(n) + l : l)).join('\n');
}

/**
 * Generates model.py and train.py. `stateDictKeys` are the engine model's state_dict names
 * (`compileGraph(graph).stateDict().keys()`); model.py checks them when it loads weights.
 */
export function exportPytorch(graph: ModelGraph, opts: { name: string; plan: TrainPlan; stateDictKeys: string[]; analysis?: GraphAnalysis }): PytorchExport {
  const analysis = opts.analysis ?? inferGraph(graph);
  if (!analysis.valid) throw new PytorchExportError(`The model is not valid:\n${analysis.problems.map((p) => `- ${p.message}`).join('\n')}`);
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const ids = identifiers(graph.nodes);
  const problems = graph.nodes.filter((n) => !getLayer(n.type).torch).map((n) => `${n.id} (${n.type}): this layer type has no PyTorch form yet`);
  if (problems.length) throw new PytorchExportError(`PyTorch export cannot write:\n${problems.map((p) => `- ${p}`).join('\n')}`);

  const inputs: { id: string; name: string; type: ValueType }[] = [];
  const targets: { id: string; name: string; type: ValueType }[] = [];
  const init: string[] = [];
  const forward: string[] = [];
  const helpers = new Set<string>();
  const values = new Map<string, string>();
  const losses: { id: string; name: string; weight: number; needs: string[] }[] = [];
  let usesGraph = false;

  for (const id of analysis.order) {
    const node = byId.get(id)!;
    const def = getLayer(node.type);
    const info = analysis.nodes[id]!;
    const name = ids.get(id)!;
    if (def.isInput) {
      const t = info.outputs[0]!;
      (def.isTarget ? targets : inputs).push({ id, name, type: t });
      if (t.kind === 'graph') usesGraph = true;
      values.set(`${id}:0`, name);
      continue;
    }
    if (GRAPH_TYPES.has(node.type)) usesGraph = true;
    const ports = inputPorts(node);
    const args = ports.map((p) => {
      const e = graph.edges.find((edge) => edge.target === id && edge.targetPort === p.name);
      if (!e) return '';
      const src = outputPorts(byId.get(e.source)!).findIndex((o) => o.name === e.sourcePort);
      return values.get(`${e.source}:${src}`) ?? '';
    });
    const outPorts = outputPorts(node);
    const outs = outPorts.map((p, i) => (outPorts.length === 1 ? name : `${name}_${p.name.replace(/[^A-Za-z0-9_]/g, '_') || i}`));
    const code = nodeCode(node, info, args, outs, `self._modules[${JSON.stringify(id)}]`);
    code.helpers.forEach((h) => helpers.add(h));
    if (code.init) init.push(`self.add_module(${JSON.stringify(id)}, ${code.init})`);
    const needs = [...new Set(args.filter((a) => a !== ''))];
    const fromTarget = targets.filter((t) => needs.includes(t.name)).map((t) => t.name);
    if (def.isLoss) {
      losses.push({ id, name: outs[0]!, weight: Number(resolvedParams(node).weight ?? 1), needs: fromTarget });
      forward.push(`if ${fromTarget.length ? fromTarget.map((t) => `${t} is not None`).join(' and ') : 'True'}:`);
      forward.push(...code.lines.map((l) => `    ${l}`));
    } else {
      forward.push(...code.lines);
    }
    outs.forEach((o, i) => values.set(`${id}:${i}`, o));
  }

  // Outputs: nodes nothing reads (or that feed a loss's prediction), as in the engine.
  const lossIds = new Set(losses.map((l) => l.id));
  const consumed = new Set(graph.edges.map((e) => e.source));
  const predictionSources = new Set(
    graph.edges.filter((e) => lossIds.has(e.target) && e.targetPort === inputPorts(byId.get(e.target)!)[0]?.name).map((e) => e.source),
  );
  const outputIds = analysis.order.filter((id) => {
    const def = getLayer(byId.get(id)!.type);
    return !def.isLoss && !def.isInput && (!consumed.has(id) || predictionSources.has(id));
  });

  const signature = [
    'self',
    ...inputs.map((i) => i.name),
    ...(usesGraph ? ['edge_index', 'batch'] : []),
    ...targets.map((t) => `${t.name}=None`),
  ].join(', ');
  const lossLines = losses.length
    ? [
        'terms = []',
        ...losses.flatMap((l) => [
          `if ${l.needs.length ? l.needs.map((t) => `${t} is not None`).join(' and ') : 'True'}:`,
          `    terms.append(${l.weight === 1 ? l.name : `${l.weight} * ${l.name}`})`,
        ]),
        'loss = sum(terms) if terms else None',
      ]
    : ['loss = None'];
  const outputsDict = `{${outputIds.map((id) => `${JSON.stringify(id)}: ${values.get(`${id}:0`)}`).join(', ')}}`;

  const helperCode = [...helpers].map((h) => HELPERS[h]).join('\n\n');
  const modelPy = `"""${opts.name}: the model, exported from APS Studio.

Each layer is registered under its node id, so the state_dict names match the project's
weights.safetensors file; forward() runs the layers in the order of the graph.
Inputs: ${inputs.map((i) => `${i.name} [N, ${i.type.shape.join(', ')}] (${i.type.dtype})`).join('; ') || 'none'}${usesGraph ? '; edge_index [2, E] and batch [nodes] for graph batches' : ''}.
Targets (optional; losses are computed when given): ${targets.map((t) => `${t.name} [N${t.type.shape.length ? `, ${t.type.shape.join(', ')}` : ''}]`).join('; ') || 'none'}.
"""
import math

import torch
from torch import nn
import torch.nn.functional as F
${usesGraph ? 'from torch_geometric.nn import GATConv, GCNConv, global_add_pool, global_max_pool, global_mean_pool\n' : ''}
# The state_dict names of this model, as in the engine that trained it.
STATE_DICT_KEYS = ${py(opts.stateDictKeys)}

INPUTS = ${py(inputs.map((i) => i.name))}
TARGETS = ${py(targets.map((t) => t.name))}
OUTPUTS = ${py(outputIds)}


${helperCode}${helperCode ? '\n\n' : ''}class Model(nn.Module):
    def __init__(self):
        super().__init__()
${indent(init.length ? init : ['pass'], 8)}

    def forward(${signature}):
        """Returns ({output node id: tensor}, total loss or None)."""
${indent([...forward, ...lossLines, `return ${outputsDict}, loss`], 8)}


# safetensors files (https://github.com/huggingface/safetensors): the \`safetensors\` package
# is used when it is installed; otherwise the plain-Python reader and writer below (8-byte
# little-endian header length, JSON header, raw little-endian tensor data).
_DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool,
}


def load_safetensors(path):
    """{name: tensor} from a safetensors file."""
    try:
        from safetensors.torch import load_file
    except ImportError:
        load_file = None
    if load_file is not None:
        return load_file(path)
    import json
    import sys

    with open(path, "rb") as f:
        data = f.read()
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n].decode("utf-8"))
    header.pop("__metadata__", None)
    body = data[8 + n :]
    out = {}
    for name, info in header.items():
        dtype = _DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name!r} has dtype {info['dtype']}, which this reader does not know")
        begin, end = info["data_offsets"]
        if end == begin:
            out[name] = torch.empty(info["shape"], dtype=dtype)
            continue
        raw = bytearray(body[begin:end])
        if sys.byteorder != "little":
            size = torch.empty(0, dtype=dtype).element_size()
            for i in range(0, len(raw), size):
                raw[i : i + size] = raw[i : i + size][::-1]
        out[name] = torch.frombuffer(raw, dtype=dtype).reshape(info["shape"])
    return out


def save_safetensors(tensors, path):
    """Writes {name: tensor} as a safetensors file."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in tensors.items()}
    try:
        from safetensors.torch import save_file
    except ImportError:
        save_file = None
    if save_file is not None:
        save_file(tensors, path)
        return
    import json
    import sys

    names = {v: k for k, v in _DTYPES.items()}
    header, chunks, offset = {}, [], 0
    for name, t in tensors.items():
        if t.dtype not in names:
            raise ValueError(f"tensor {name!r} has dtype {t.dtype}, which safetensors cannot store")
        raw = bytes(t.reshape(-1).view(torch.uint8).tolist()) if t.numel() else b""
        if sys.byteorder != "little" and t.element_size() > 1:
            size = t.element_size()
            raw = b"".join(raw[i : i + size][::-1] for i in range(0, len(raw), size))
        header[name] = {"dtype": names[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    head = json.dumps(header, separators=(",", ":")).encode("utf-8")
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        for raw in chunks:
            f.write(raw)


def load_weights(model, path="weights.safetensors"):
    """Loads trained weights; the names must be exactly the model's."""
    state = load_safetensors(path)
    missing = set(STATE_DICT_KEYS) - set(state)
    unexpected = set(state) - set(STATE_DICT_KEYS)
    if missing or unexpected:
        raise ValueError(f"{path}: missing {sorted(missing)}, unexpected {sorted(unexpected)}")
    model.load_state_dict(state, strict=True)
    return model
`;

  return { files: { 'model.py': modelPy, 'train.py': trainPy(opts.name, opts.plan, inputs, targets, usesGraph) }, stateDictKeys: opts.stateDictKeys };
}

function trainPy(name: string, plan: TrainPlan, inputs: { name: string }[], targets: { name: string }[], usesGraph: boolean): string {
  const o = plan.optimizer;
  const optimiser =
    o.type === 'sgd'
      ? `torch.optim.SGD(model.parameters(), lr=${o.lr}, momentum=${o.momentum ?? 0}, weight_decay=${o.weightDecay ?? 0}, nesterov=${py(o.nesterov ?? false)})`
      : o.type === 'rmsprop'
        ? `torch.optim.RMSprop(model.parameters(), lr=${o.lr}, momentum=${o.momentum ?? 0}, weight_decay=${o.weightDecay ?? 0})`
        : `torch.optim.${o.type === 'adam' ? 'Adam' : 'AdamW'}(model.parameters(), lr=${o.lr}, betas=(${(o.betas ?? [0.9, 0.999]).join(', ')}), weight_decay=${o.weightDecay ?? (o.type === 'adamw' ? 0.01 : 0)})`;
  const s = plan.schedule ?? { type: 'none' };
  const scheduler =
    s.type === 'step'
      ? `torch.optim.lr_scheduler.StepLR(optimizer, step_size=${s.stepSize}, gamma=${s.gamma})`
      : s.type === 'exponential'
        ? `torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma=${s.gamma})`
        : s.type === 'cosine'
          ? `torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=${s.tMax}, eta_min=${s.etaMin ?? 0})`
          : 'None';
  const names = [...inputs.map((i) => i.name), ...targets.map((t) => t.name)];
  return `"""Trains ${name}, exported from APS Studio, with the project's settings.

Single process:      python train.py
Data-parallel:      torchrun --nproc_per_node=4 train.py   (DistributedDataParallel; WORLD_SIZE set)

The data is read from data.safetensors next to this file (written by \`aps export
--format pytorch\`, with the project's split and preprocessing): tensors
"train.<name>" and "val.<name>" for ${names.map((n) => `"${n}"`).join(', ')}.
Starts from weights.safetensors when it is present; saves trained.safetensors.
"""
import math
import os

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

from model import INPUTS, TARGETS, Model, load_safetensors, load_weights, save_safetensors

EPOCHS = ${plan.epochs}
BATCH_SIZE = ${plan.batchSize}
SEED = ${plan.seed}
GRAD_CLIP_NORM = ${plan.gradClipNorm ?? 'None'}
${usesGraph ? '\n# Graph batches (edge_index, batch) need a graph data loader such as torch_geometric.loader.DataLoader.\n' : ''}

def split(data, part):
    return TensorDataset(*[data[f"{part}.{name}"] for name in INPUTS + TARGETS])


def run_epoch(model, loader, optimizer=None):
    training = optimizer is not None
    model.train(training)
    total, count = 0.0, 0
    with torch.set_grad_enabled(training):
        for tensors in loader:
            tensors = [t.to(DEVICE) for t in tensors]
            _, loss = model(*tensors)
            if training:
                optimizer.zero_grad()
                loss.backward()
                if GRAD_CLIP_NORM is not None:
                    torch.nn.utils.clip_grad_norm_(model.parameters(), GRAD_CLIP_NORM)
                optimizer.step()
            total += loss.item() * len(tensors[0])
            count += len(tensors[0])
    return total / max(count, 1)


def main():
    global DEVICE
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    if distributed:
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
        rank = dist.get_rank()
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        if torch.cuda.is_available():
            torch.cuda.set_device(local_rank)
    else:
        rank, local_rank = 0, 0
    DEVICE = torch.device(f"cuda:{local_rank}" if torch.cuda.is_available() else "cpu")
    torch.manual_seed(SEED)

    data = load_safetensors(os.path.join(os.path.dirname(os.path.abspath(__file__)), "data.safetensors"))
    train_set, val_set = split(data, "train"), split(data, "val")
    sampler = DistributedSampler(train_set, shuffle=True, seed=SEED) if distributed else None
    train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=sampler is None, sampler=sampler)
    val_loader = DataLoader(val_set, batch_size=BATCH_SIZE)

    model = Model()
    if os.path.exists("weights.safetensors"):
        load_weights(model, "weights.safetensors")
    model.to(DEVICE)
    if distributed:
        model = DistributedDataParallel(model, device_ids=[local_rank] if torch.cuda.is_available() else None)
    optimizer = ${optimiser}
    scheduler = ${scheduler}

    for epoch in range(1, EPOCHS + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        train_loss = run_epoch(model, train_loader, optimizer)
        if scheduler is not None:
            scheduler.step()
        if rank == 0:
            val_loss = run_epoch(model, val_loader) if len(val_set) else math.nan
            print(f"epoch {epoch}: train loss {train_loss:.4f}, val loss {val_loss:.4f}", flush=True)

    if rank == 0:
        module = model.module if distributed else model
        save_safetensors(module.state_dict(), "trained.safetensors")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
`;
}
