/**
 * Transformer layers (torch.nn.TransformerEncoderLayer, TransformerDecoderLayer,
 * TransformerEncoder, TransformerDecoder) with torch's parameter names, and a ViT patch
 * embedding. Sequences are batch-first by default here ([N, T, d_model]); torch defaults to
 * sequence-first, which `batchFirst: false` selects.
 *
 * Masks (see engine/ops/attention.ts): attention masks [T, S] float (added) or int32
 * (nonzero = blocked); key-padding masks [N, S] int32 (nonzero = padding) or float.
 */
import { activeBackend } from '../core/engine.ts';
import type { Generator } from '../core/random.ts';
import { shapeStr } from '../core/shape.ts';
import type { Tensor } from '../core/tensor.ts';
import { gelu, relu } from '../ops/activation.ts';
import { add } from '../ops/elementwise.ts';
import { cat, expand, narrow, permute, reshape } from '../ops/layout.ts';
import { linear } from '../ops/matmul.ts';
import { addLayerNorm } from '../ops/norm.ts';
import { reluDropout, transformerLinear } from '../ops/attention.ts';
import { MultiheadAttention } from './attention.ts';
import { Dropout } from './dropout.ts';
import { normalValues, torchDefaultBias, torchDefaultWeight } from './init.ts';
import { Linear } from './linear.ts';
import { Module, parameter } from './module.ts';
import { LayerNorm } from './norm.ts';

export interface TransformerLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  activation?: 'relu' | 'gelu';
  layerNormEps?: number;
  batchFirst?: boolean;
  normFirst?: boolean;
  bias?: boolean;
  generator?: Generator;
}

export interface EncoderMasks {
  mask?: Tensor | null;
  keyPaddingMask?: Tensor | null;
  isCausal?: boolean;
}

export interface DecoderMasks {
  tgtMask?: Tensor | null;
  memoryMask?: Tensor | null;
  tgtKeyPaddingMask?: Tensor | null;
  memoryKeyPaddingMask?: Tensor | null;
  tgtIsCausal?: boolean;
}

function checkModel(x: Tensor, dModel: number, layer: string): void {
  if ((x.rank !== 3 && x.rank !== 2) || x.shape[x.rank - 1] !== dModel) {
    throw new Error(`${layer}: input must be [batch, seq, ${dModel}] (d_model ${dModel}), got ${shapeStr(x.shape)}`);
  }
}

interface FeedForward {
  linear1: Linear;
  dropout: Dropout;
  linear2: Linear;
  activation: 'relu' | 'gelu';
}

/** Registers linear1, dropout, linear2 on `owner` (torch's order and names). */
function makeFeedForward(owner: Module, dModel: number, opts: TransformerLayerOptions): FeedForward {
  const ff = opts.dimFeedforward ?? 2048;
  const g = opts.generator;
  const activation = opts.activation ?? 'relu';
  if (activation !== 'relu' && activation !== 'gelu') throw new Error(`Transformer layer: activation must be 'relu' or 'gelu', got '${String(activation)}'`);
  return {
    linear1: owner.registerModule('linear1', new Linear(dModel, ff, { bias: opts.bias, generator: g })),
    dropout: owner.registerModule('dropout', new Dropout(opts.dropout ?? 0.1, { generator: g })),
    linear2: owner.registerModule('linear2', new Linear(ff, dModel, { bias: opts.bias, generator: g })),
    activation,
  };
}

/** linear2(dropout(act(linear1(x)))); relu and dropout as one kernel on the CPU, bias gradients by transformerLinear. */
function feedForward(f: FeedForward, x: Tensor): Tensor {
  const h = transformerLinear(x, f.linear1.weight, f.linear1.bias);
  if (f.activation === 'relu' && activeBackend().name === 'cpu') {
    return transformerLinear(reluDropout(h, f.dropout.p, f.dropout.training, f.dropout.generator), f.linear2.weight, f.linear2.bias);
  }
  return transformerLinear(f.dropout.forward(f.activation === 'relu' ? relu(h) : gelu(h)), f.linear2.weight, f.linear2.bias);
}

/**
 * norm(x + dropout(branch)), the post-norm residual step: one fused kernel on the CPU
 * (ops/norm.ts addLayerNorm, same dropout draws as the Dropout module), the op chain elsewhere.
 */
function residualNorm(norm: LayerNorm, x: Tensor, branch: Tensor, drop: Dropout): Tensor {
  if (activeBackend().name !== 'cpu') return norm.forward(add(x, drop.forward(branch)));
  return addLayerNorm(x, branch, norm.normalizedShape, norm.weight, norm.bias, norm.opts.eps ?? 1e-5, { p: drop.p, training: drop.training, generator: drop.generator });
}

function makeAttention(dModel: number, nhead: number, opts: TransformerLayerOptions): MultiheadAttention {
  return new MultiheadAttention(dModel, nhead, { dropout: opts.dropout ?? 0.1, bias: opts.bias, batchFirst: opts.batchFirst ?? true, generator: opts.generator });
}

/**
 * TransformerEncoderLayer: self-attention and feed-forward, each with a residual connection
 * and LayerNorm (after, or before with normFirst). src [N, T, d_model] -> same shape.
 * Params: self_attn.*, linear1, linear2, norm1, norm2.
 */
export class TransformerEncoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerLayerOptions = {}) {
    super();
    const p = opts.dropout ?? 0.1;
    const eps = opts.layerNormEps ?? 1e-5;
    this.normFirst = opts.normFirst ?? false;
    this.selfAttn = this.registerModule('self_attn', makeAttention(dModel, nhead, opts));
    this.ff = makeFeedForward(this, dModel, opts);
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, { eps, bias: opts.bias }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, { eps, bias: opts.bias }));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p, { generator: opts.generator }));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p, { generator: opts.generator }));
  }

  private selfAttention(x: Tensor, masks: EncoderMasks): Tensor {
    return this.selfAttn.attend(x, x, x, { attnMask: masks.mask, keyPaddingMask: masks.keyPaddingMask, isCausal: masks.isCausal, needWeights: false }).output;
  }

  encode(src: Tensor, masks: EncoderMasks = {}): Tensor {
    checkModel(src, this.dModel, 'TransformerEncoderLayer');
    let x = src;
    if (this.normFirst) {
      x = add(x, this.dropout1.forward(this.selfAttention(this.norm1.forward(x), masks)));
      x = add(x, this.dropout2.forward(feedForward(this.ff, this.norm2.forward(x))));
    } else {
      x = residualNorm(this.norm1, x, this.selfAttention(x, masks), this.dropout1);
      x = residualNorm(this.norm2, x, feedForward(this.ff, x), this.dropout2);
    }
    return x;
  }

  forward(src: Tensor, srcMask?: Tensor | null, srcKeyPaddingMask?: Tensor | null): Tensor {
    return this.encode(src, { mask: srcMask, keyPaddingMask: srcKeyPaddingMask });
  }
}

/**
 * TransformerDecoderLayer: masked self-attention, cross-attention over the encoder's memory,
 * feed-forward; residuals and LayerNorm as the encoder layer. tgt [N, T, d_model], memory
 * [N, S, d_model] -> [N, T, d_model]. Params: self_attn.*, multihead_attn.*, linear1, linear2, norm1-3.
 */
export class TransformerDecoderLayer extends Module {
  readonly selfAttn: MultiheadAttention;
  readonly multiheadAttn: MultiheadAttention;
  readonly ff: FeedForward;
  readonly norm1: LayerNorm;
  readonly norm2: LayerNorm;
  readonly norm3: LayerNorm;
  readonly dropout1: Dropout;
  readonly dropout2: Dropout;
  readonly dropout3: Dropout;
  readonly normFirst: boolean;

  constructor(readonly dModel: number, readonly nhead: number, opts: TransformerLayerOptions = {}) {
    super();
    const p = opts.dropout ?? 0.1;
    const eps = opts.layerNormEps ?? 1e-5;
    this.normFirst = opts.normFirst ?? false;
    this.selfAttn = this.registerModule('self_attn', makeAttention(dModel, nhead, opts));
    this.multiheadAttn = this.registerModule('multihead_attn', makeAttention(dModel, nhead, opts));
    this.ff = makeFeedForward(this, dModel, opts);
    this.norm1 = this.registerModule('norm1', new LayerNorm(dModel, { eps, bias: opts.bias }));
    this.norm2 = this.registerModule('norm2', new LayerNorm(dModel, { eps, bias: opts.bias }));
    this.norm3 = this.registerModule('norm3', new LayerNorm(dModel, { eps, bias: opts.bias }));
    this.dropout1 = this.registerModule('dropout1', new Dropout(p, { generator: opts.generator }));
    this.dropout2 = this.registerModule('dropout2', new Dropout(p, { generator: opts.generator }));
    this.dropout3 = this.registerModule('dropout3', new Dropout(p, { generator: opts.generator }));
  }

  decode(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    checkModel(tgt, this.dModel, 'TransformerDecoderLayer');
    checkModel(memory, this.dModel, 'TransformerDecoderLayer (memory)');
    const sa = (x: Tensor) =>
      this.selfAttn.attend(x, x, x, { attnMask: masks.tgtMask, keyPaddingMask: masks.tgtKeyPaddingMask, isCausal: masks.tgtIsCausal, needWeights: false }).output;
    const ca = (x: Tensor) =>
      this.multiheadAttn.attend(x, memory, memory, { attnMask: masks.memoryMask, keyPaddingMask: masks.memoryKeyPaddingMask, needWeights: false }).output;
    const ff = (x: Tensor) => feedForward(this.ff, x);
    let x = tgt;
    if (this.normFirst) {
      x = add(x, this.dropout1.forward(sa(this.norm1.forward(x))));
      x = add(x, this.dropout2.forward(ca(this.norm2.forward(x))));
      x = add(x, this.dropout3.forward(ff(this.norm3.forward(x))));
    } else {
      x = residualNorm(this.norm1, x, sa(x), this.dropout1);
      x = residualNorm(this.norm2, x, ca(x), this.dropout2);
      x = residualNorm(this.norm3, x, ff(x), this.dropout3);
    }
    return x;
  }

  forward(tgt: Tensor, memory: Tensor, tgtMask?: Tensor | null, memoryMask?: Tensor | null): Tensor {
    return this.decode(tgt, memory, { tgtMask, memoryMask });
  }
}

/**
 * A stack of encoder layers (layers.{i}.*), each made by `makeLayer`, with an optional final
 * LayerNorm (`norm`). src [N, T, d_model] -> same shape.
 */
export class TransformerEncoder extends Module {
  readonly layers: TransformerEncoderLayer[] = [];
  readonly norm: LayerNorm | null;

  constructor(makeLayer: (index: number) => TransformerEncoderLayer, readonly numLayers: number, opts: { norm?: LayerNorm | null } = {}) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new Error(`TransformerEncoder: num_layers must be a positive integer, got ${numLayers}`);
    const holder = this.registerModule('layers', new LayerList());
    for (let i = 0; i < numLayers; i++) this.layers.push(holder.add(makeLayer(i)));
    this.norm = opts.norm ? this.registerModule('norm', opts.norm) : null;
  }

  encode(src: Tensor, masks: EncoderMasks = {}): Tensor {
    let x = src;
    for (const layer of this.layers) x = layer.encode(x, masks);
    return this.norm ? this.norm.forward(x) : x;
  }

  forward(src: Tensor, mask?: Tensor | null, srcKeyPaddingMask?: Tensor | null): Tensor {
    return this.encode(src, { mask, keyPaddingMask: srcKeyPaddingMask });
  }
}

/** A stack of decoder layers (layers.{i}.*) with an optional final LayerNorm. */
export class TransformerDecoder extends Module {
  readonly layers: TransformerDecoderLayer[] = [];
  readonly norm: LayerNorm | null;

  constructor(makeLayer: (index: number) => TransformerDecoderLayer, readonly numLayers: number, opts: { norm?: LayerNorm | null } = {}) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new Error(`TransformerDecoder: num_layers must be a positive integer, got ${numLayers}`);
    const holder = this.registerModule('layers', new LayerList());
    for (let i = 0; i < numLayers; i++) this.layers.push(holder.add(makeLayer(i)));
    this.norm = opts.norm ? this.registerModule('norm', opts.norm) : null;
  }

  decode(tgt: Tensor, memory: Tensor, masks: DecoderMasks = {}): Tensor {
    let x = tgt;
    for (const layer of this.layers) x = layer.decode(x, memory, masks);
    return this.norm ? this.norm.forward(x) : x;
  }

  forward(tgt: Tensor, memory: Tensor, tgtMask?: Tensor | null, memoryMask?: Tensor | null): Tensor {
    return this.decode(tgt, memory, { tgtMask, memoryMask });
  }
}

/** Numbered children (torch.nn.ModuleList) so that names read layers.0.*, layers.1.*. */
class LayerList extends Module {
  private count = 0;

  add<M extends Module>(m: M): M {
    return this.registerModule(String(this.count++), m);
  }

  forward(): Tensor {
    throw new Error('A layer list is not called directly; its owner runs the layers in turn');
  }
}

/** Holds the patch projection's weight and bias under proj.* (a Conv2d with kernel = stride = patch). */
class PatchProjection extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;

  constructor(inChannels: number, embedDim: number, patch: number, gen?: Generator) {
    super();
    const shape = [embedDim, inChannels, patch, patch];
    this.weight = parameter(torchDefaultWeight(shape, gen), shape);
    this.bias = parameter(torchDefaultBias(embedDim, inChannels * patch * patch, gen), [embedDim]);
    this.registerParameter('weight', this.weight);
    this.registerParameter('bias', this.bias);
  }

  /** x [N, C, H, W] -> patch embeddings [N, (H/p)(W/p), E], patches in row-major order. */
  forward(x: Tensor): Tensor {
    const [E, C, p] = this.weight.shape;
    const [N, , H, W] = x.shape;
    const gh = H / p;
    const gw = W / p;
    // A convolution with kernel = stride = p is a linear map of each non-overlapping patch.
    const patches = reshape(permute(reshape(x, [N, C, gh, p, gw, p]), [0, 2, 4, 1, 3, 5]), [N, gh * gw, C * p * p]);
    return linear(patches, reshape(this.weight, [E, C * p * p]), this.bias);
  }
}

/**
 * Vision-transformer patch embedding: cuts an image into patch x patch tiles, projects each
 * (proj: Conv2d weights [E, C, p, p] with kernel = stride = p), prepends a learned class token
 * (cls_token [1, 1, E]) and adds a learned position embedding (pos_embed [1, 1 + P, E], N(0, 0.02)).
 * x [N, C, H, W] -> [N, 1 + (H/p)(W/p), E] (no class token: [N, (H/p)(W/p), E]).
 */
export class PatchEmbedding extends Module {
  readonly proj: PatchProjection;
  readonly clsToken: Tensor | null;
  readonly posEmbed: Tensor;
  readonly numPatches: number;

  constructor(
    readonly imageSize: number | [number, number],
    readonly patchSize: number,
    readonly inChannels: number,
    readonly embedDim: number,
    opts: { classToken?: boolean; generator?: Generator } = {},
  ) {
    super();
    const [H, W] = typeof imageSize === 'number' ? [imageSize, imageSize] : imageSize;
    if (H % patchSize !== 0 || W % patchSize !== 0) {
      throw new Error(`PatchEmbedding: image size ${H}x${W} is not divisible by patch size ${patchSize}`);
    }
    this.numPatches = (H / patchSize) * (W / patchSize);
    const g = opts.generator;
    const withCls = opts.classToken ?? true;
    this.clsToken = withCls ? parameter(normalValues(embedDim, 0, 0.02, g), [1, 1, embedDim]) : null;
    this.registerParameter('cls_token', this.clsToken);
    const tokens = this.numPatches + (withCls ? 1 : 0);
    this.posEmbed = parameter(normalValues(tokens * embedDim, 0, 0.02, g), [1, tokens, embedDim]);
    this.registerParameter('pos_embed', this.posEmbed);
    this.proj = this.registerModule('proj', new PatchProjection(inChannels, embedDim, patchSize, g));
  }

  forward(x: Tensor): Tensor {
    const [H, W] = typeof this.imageSize === 'number' ? [this.imageSize, this.imageSize] : this.imageSize;
    if (x.rank !== 4 || x.shape[1] !== this.inChannels || x.shape[2] !== H || x.shape[3] !== W) {
      throw new Error(`PatchEmbedding: input must be [batch, ${this.inChannels}, ${H}, ${W}], got ${shapeStr(x.shape)}`);
    }
    let t = this.proj.forward(x);
    if (this.clsToken) t = cat([expand(this.clsToken, [x.shape[0], 1, this.embedDim]), t], 1);
    return add(t, narrow(this.posEmbed, 1, 0, t.shape[1]));
  }
}
