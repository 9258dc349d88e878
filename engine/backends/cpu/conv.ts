/**
 * 2-D convolution kernels on the CPU (NCHW): the forward pass and its two gradients, each
 * a kernel of its own so that other backends can implement them separately.
 *
 * Each kernel lowers one sample and group at a time to a matrix product: im2col writes the
 * receptive fields as the columns of a [Cg*kh*kw, Ho*Wo] matrix (in a reused scratch
 * buffer) and the packed, register-blocked `gemmStrided` multiplies. A 1x1 convolution
 * with stride 1 and no padding uses the input directly. The gradient w.r.t. the input
 * multiplies by the transposed weight and scatters back with col2im.
 *
 * Geometry attributes (shared with the ops): strideH, strideW, padTop, padLeft,
 * dilationH, dilationW, groups. Bottom/right padding is implied by the output size.
 */
import { type Attrs, registerKernel } from '../../core/backend.ts';
import { f32, out } from './cpu-backend.ts';
import { gemmStrided } from './matmul.ts';

interface Geometry {
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  dh: number;
  dw: number;
  groups: number;
}

function geometry(attrs: Attrs): Geometry {
  return {
    sh: attrs.strideH as number,
    sw: attrs.strideW as number,
    pt: attrs.padTop as number,
    pl: attrs.padLeft as number,
    dh: attrs.dilationH as number,
    dw: attrs.dilationW as number,
    groups: attrs.groups as number,
  };
}

let scratch = new Float32Array(1 << 16);
function scratchOf(size: number): Float32Array {
  if (scratch.length < size) scratch = new Float32Array(Math.max(size, scratch.length * 2));
  return scratch;
}

/** First and one-past-last output column whose input column ow*s - p + j*d lies in [0, W). */
function validRange(outW: number, s: number, p: number, jd: number, W: number): [number, number] {
  const lo = Math.max(0, Math.ceil((p - jd) / s));
  const hi = Math.min(outW, Math.floor((W - 1 + p - jd) / s) + 1);
  return [lo, Math.max(lo, hi)];
}

/**
 * col[(c*kh + i)*kw + j, oh*outW + ow] = x[xOff + c*H*W + ih*W + iw] (0 outside the input),
 * with ih = oh*sh - pt + i*dh and iw = ow*sw - pl + j*dw.
 */
function im2col(
  x: Float32Array, xOff: number, cg: number, H: number, W: number,
  kh: number, kw: number, outH: number, outW: number, g: Geometry, col: Float32Array,
): void {
  const P = outH * outW;
  let row = 0;
  for (let c = 0; c < cg; c++) {
    const plane = xOff + c * H * W;
    for (let i = 0; i < kh; i++) {
      const [ohLo, ohHi] = validRange(outH, g.sh, g.pt, i * g.dh, H);
      for (let j = 0; j < kw; j++, row++) {
        const base = row * P;
        const [owLo, owHi] = validRange(outW, g.sw, g.pl, j * g.dw, W);
        col.fill(0, base, base + ohLo * outW);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const d = base + oh * outW;
          const src = plane + (oh * g.sh - g.pt + i * g.dh) * W - g.pl + j * g.dw;
          for (let ow = 0; ow < owLo; ow++) col[d + ow] = 0;
          if (g.sw === 1) for (let ow = owLo; ow < owHi; ow++) col[d + ow] = x[src + ow];
          else for (let ow = owLo; ow < owHi; ow++) col[d + ow] = x[src + ow * g.sw];
          for (let ow = owHi; ow < outW; ow++) col[d + ow] = 0;
        }
        col.fill(0, base + ohHi * outW, base + P);
      }
    }
  }
}

/** The adjoint of im2col: dx[...] += col[...] for every in-bounds receptive-field entry. */
function col2im(
  col: Float32Array, cg: number, H: number, W: number,
  kh: number, kw: number, outH: number, outW: number, g: Geometry, dx: Float32Array, dxOff: number,
): void {
  const P = outH * outW;
  let row = 0;
  for (let c = 0; c < cg; c++) {
    const plane = dxOff + c * H * W;
    for (let i = 0; i < kh; i++) {
      const [ohLo, ohHi] = validRange(outH, g.sh, g.pt, i * g.dh, H);
      for (let j = 0; j < kw; j++, row++) {
        const base = row * P;
        const [owLo, owHi] = validRange(outW, g.sw, g.pl, j * g.dw, W);
        for (let oh = ohLo; oh < ohHi; oh++) {
          const s = base + oh * outW;
          const dst = plane + (oh * g.sh - g.pt + i * g.dh) * W - g.pl + j * g.dw;
          if (g.sw === 1) for (let ow = owLo; ow < owHi; ow++) dx[dst + ow] += col[s + ow];
          else for (let ow = owLo; ow < owHi; ow++) dx[dst + ow * g.sw] += col[s + ow];
        }
      }
    }
  }
}

function isPointwise(kh: number, kw: number, g: Geometry, H: number, W: number, outH: number, outW: number): boolean {
  return kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && outH === H && outW === W;
}

/** Conv2D: inputs x [N, C, H, W], w [O, C/groups, kh, kw], optional bias [O]; attrs + outH, outW. */
registerKernel('Conv2D', 'cpu', (inputs, attrs) => {
  const [x, w, bias] = inputs;
  const g = geometry(attrs);
  const outH = attrs.outH as number;
  const outW = attrs.outW as number;
  const [N, C, H, W] = x.shape;
  const [O, cg, kh, kw] = w.shape;
  const og = O / g.groups;
  const K = cg * kh * kw;
  const P = outH * outW;
  const xv = f32(x);
  const wv = f32(w);
  const y = new Float32Array(N * O * P);
  if (bias) {
    const bv = f32(bias);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y.fill(bv[o], (n * O + o) * P, (n * O + o + 1) * P);
  }
  const pointwise = isPointwise(kh, kw, g, H, W, outH, outW);
  const col = pointwise ? xv : scratchOf(K * P);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOff = (n * C + grp * cg) * H * W;
      if (!pointwise) im2col(xv, xOff, cg, H, W, kh, kw, outH, outW, g, col);
      gemmStrided(og, P, K, wv, grp * og * K, K, 1, col, pointwise ? xOff : 0, P, 1, y, (n * O + grp * og) * P, P);
    }
  }
  return out(y, [N, O, outH, outW]);
});

/** Gradient of Conv2D w.r.t. its input: inputs dy [N, O, Ho, Wo], w; attrs + inputShape. */
registerKernel('Conv2DBackpropInput', 'cpu', (inputs, attrs) => {
  const [dy, w] = inputs;
  const g = geometry(attrs);
  const [N, C, H, W] = attrs.inputShape as number[];
  const [, , outH, outW] = dy.shape;
  const [O, cg, kh, kw] = w.shape;
  const og = O / g.groups;
  const K = cg * kh * kw;
  const P = outH * outW;
  const dyv = f32(dy);
  const wv = f32(w);
  const dx = new Float32Array(N * C * H * W);
  const pointwise = isPointwise(kh, kw, g, H, W, outH, outW);
  const dcol = pointwise ? dx : scratchOf(K * P);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const dxOff = (n * C + grp * cg) * H * W;
      if (!pointwise) dcol.fill(0, 0, K * P);
      // dcol [K, P] = W_g^T [K, og] @ dy_g [og, P]
      gemmStrided(K, P, og, wv, grp * og * K, 1, K, dyv, (n * O + grp * og) * P, P, 1, dcol, pointwise ? dxOff : 0, P);
      if (!pointwise) col2im(dcol, cg, H, W, kh, kw, outH, outW, g, dx, dxOff);
    }
  }
  return out(dx, [N, C, H, W]);
});

/** Gradient of Conv2D w.r.t. its weight: inputs x, dy [N, O, Ho, Wo]; attrs + filterShape. */
registerKernel('Conv2DBackpropFilter', 'cpu', (inputs, attrs) => {
  const [x, dy] = inputs;
  const g = geometry(attrs);
  const [O, cg, kh, kw] = attrs.filterShape as number[];
  const [N, C, H, W] = x.shape;
  const [, , outH, outW] = dy.shape;
  const og = O / g.groups;
  const K = cg * kh * kw;
  const P = outH * outW;
  const xv = f32(x);
  const dyv = f32(dy);
  const dw = new Float32Array(O * K);
  const pointwise = isPointwise(kh, kw, g, H, W, outH, outW);
  const col = pointwise ? xv : scratchOf(K * P);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOff = (n * C + grp * cg) * H * W;
      if (!pointwise) im2col(xv, xOff, cg, H, W, kh, kw, outH, outW, g, col);
      // dW_g [og, K] += dy_g [og, P] @ col^T [P, K]
      gemmStrided(og, K, P, dyv, (n * O + grp * og) * P, P, 1, col, pointwise ? xOff : 0, 1, P, dw, grp * og * K, K);
    }
  }
  return out(dw, [O, cg, kh, kw]);
});
