/**
 * 2-D convolution kernels on the CPU (NCHW): the forward pass and its two gradients, each
 * a kernel of its own so that other backends can implement them separately.
 *
 * Each kernel lowers one sample and group at a time to a matrix product: im2col writes the
 * receptive fields as the columns of a [Cg*kh*kw, Ho*Wo] matrix (in a reused scratch
 * buffer) and the packed, register-blocked `gemmStrided` multiplies. A 1x1 convolution
 * with stride 1 and no padding uses the input directly. The gradient w.r.t. the input
 * multiplies by the transposed weight and scatters back with col2im. With the
 * WebAssembly GEMM (`gemmPacked`) no im2col matrix is built: the receptive fields are
 * gathered straight into the GEMM's packed panels and the input gradient's blocks are
 * scattered straight into dx, which halves the memory traffic around the product.
 *
 * Where WebAssembly SIMD is in use, the forward pass and both gradients (any stride,
 * padding, dilation and groups; a strided input gradient one phase of dx at a time, see
 * stridedInputGradient) take neither route: 3x3, stride-1,
 * one-group convolutions with 4 or more input channels run by Winograd's F(2x2, 3x3)
 * (conv-winograd.ts; large batches are split between the calling thread and a helper,
 * whole samples each: setConvBatchThreads), the others on conv-shifted.ts, which reads the
 * receptive fields in place from a zero-padded copy of each sample (and can split its
 * kernel calls with helper threads, off by default: setShiftedConvThreads).
 *
 * Geometry attributes (shared with the ops): strideH, strideW, padTop, padLeft,
 * dilationH, dilationW, groups. Bottom/right padding is implied by the output size.
 */
import { registerKernel } from '../../core/backend.ts';
import { convGeometry as geometry, type ConvGeometry as Geometry } from '../kernel-attrs.ts';
import { f32, out } from './cpu-backend.ts';
import { shiftedConv2d, shiftedConv2dFilter } from './conv-shifted.ts';
import { winogradConv2d, winogradConv2dFilter } from './conv-winograd.ts';
import { gemmKernel, gemmPacked, gemmStrided, type PackPanels, packStrided, type StoreBlock } from './matmul.ts';


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

/** The lowering of one sample and group: which input pixel each (row r, pixel q) of im2col reads. */
interface Lowering {
  H: number;
  W: number;
  kh: number;
  kw: number;
  outH: number;
  outW: number;
  g: Geometry;
}

/**
 * Calls f(q, src, len) for each run of in-bounds entries of im2col row r (channel c, tap
 * i, j) among pixels [q0, q1): pixel q + t reads the plane at src + t * strideW; the
 * entries left out are the zero padding.
 */
function forRuns(L: Lowering, off: number, r: number, q0: number, q1: number, f: (q: number, src: number, len: number) => void): void {
  const { H, W, kh, kw, outH, outW, g } = L;
  const c = Math.floor(r / (kh * kw));
  const i = Math.floor(r / kw) % kh;
  const j = r % kw;
  const [ohLo, ohHi] = validRange(outH, g.sh, g.pt, i * g.dh, H);
  const [owLo, owHi] = validRange(outW, g.sw, g.pl, j * g.dw, W);
  const base = off + c * H * W + (i * g.dh - g.pt) * W + j * g.dw - g.pl;
  const ohEnd = Math.min(ohHi, Math.ceil(q1 / outW));
  for (let oh = Math.max(ohLo, Math.floor(q0 / outW)); oh < ohEnd; oh++) {
    const row = oh * outW;
    const a = Math.max(owLo, q0 - row);
    const b = Math.min(owHi, q1 - row);
    if (a < b) f(row + a, base + oh * g.sh * W + a * g.sw, b - a);
  }
}

/** Packs im2col rows [p0, p0 + kc) x pixels [j0, j0 + nc) of the plane at x[off...] as GEMM B panels (depth = rows). */
function packIm2col(L: Lowering, x: Float32Array, off: number): PackPanels {
  const sw = L.g.sw;
  return (view, d, p0, kc, j0, nc) => {
    view.fill(0, d, d + Math.ceil(nc / 8) * 8 * kc);
    const kc8 = kc * 8;
    for (let rr = 0; rr < kc; rr++) {
      const rowD = d + rr * 8;
      forRuns(L, off, p0 + rr, j0, j0 + nc, (q, src, len) => {
        let jj = q - j0;
        for (let t = 0; t < len; t++, jj++) view[rowD + (jj >> 3) * kc8 + (jj & 7)] = x[src + t * sw];
      });
    }
  };
}

/** Packs the transpose of im2col (depth = pixels [p0, p0 + kc), columns = rows [j0, j0 + nc)) as GEMM B panels. */
function packIm2colT(L: Lowering, x: Float32Array, off: number): PackPanels {
  const sw = L.g.sw;
  return (view, d, p0, kc, j0, nc) => {
    view.fill(0, d, d + Math.ceil(nc / 8) * 8 * kc);
    for (let rr = 0; rr < nc; rr++) {
      const colD = d + (rr >> 3) * kc * 8 + (rr & 7) - p0 * 8;
      forRuns(L, off, j0 + rr, p0, p0 + kc, (q, src, len) => {
        for (let t = 0; t < len; t++) view[colD + (q + t) * 8] = x[src + t * sw];
      });
    }
  };
}

/** Adds a finished block of C into a row-major matrix at c[off...] with row stride rs. */
function storeInto(c: Float32Array, off: number, rs: number): StoreBlock {
  return (view, base, ldc, i0, mc, j0, nc) => {
    for (let i = 0; i < mc; i++) {
      const row = off + (i0 + i) * rs + j0;
      const t = base + i * ldc;
      for (let j = 0; j < nc; j++) c[row + j] += view[t + j];
    }
  };
}

/** col2im of a finished block of the column gradient (rows = im2col rows): dx[off...] += its entries. */
function storeCol2im(L: Lowering, dx: Float32Array, off: number): StoreBlock {
  const sw = L.g.sw;
  return (view, base, ldc, i0, mc, j0, nc) => {
    for (let i = 0; i < mc; i++) {
      const t = base + i * ldc - j0;
      forRuns(L, off, i0 + i, j0, j0 + nc, (q, dst, len) => {
        for (let u = 0; u < len; u++) dx[dst + u * sw] += view[t + q + u];
      });
    }
  };
}

/**
 * The forward pass and the weight gradient (any stride, padding, dilation, groups) and the
 * stride-1 input gradient run on the shifted-read WebAssembly kernels of conv-shifted.ts.
 */
function isShifted(g: Geometry, inputGradient: boolean): boolean {
  return gemmKernel() === 'wasm' && (!inputGradient || (g.sh === 1 && g.sw === 1));
}

function isPointwise(kh: number, kw: number, g: Geometry, H: number, W: number, outH: number, outW: number): boolean {
  return kh === 1 && kw === 1 && g.sh === 1 && g.sw === 1 && g.pt === 0 && g.pl === 0 && outH === H && outW === W;
}

/** Kernel taps t < k whose input index lands on phase a: (a + p - t*d) divisible by s; first tap, step and count. */
function phaseTaps(a: number, p: number, d: number, s: number, k: number): { t0: number; step: number; count: number } {
  let t0 = 0;
  while (t0 < k && (((a + p - t0 * d) % s) + s) % s !== 0) t0++;
  let step = 1;
  while ((step * d) % s !== 0) step++;
  return { t0, step, count: t0 < k ? Math.floor((k - 1 - t0) / step) + 1 : 0 };
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * The input gradient of a strided convolution on the shifted-read kernels, one phase of
 * dx at a time: the entries dx[.., sh*u + a, sw*v + b] receive dy only through the kernel
 * taps i with (a + pt - i*dh) divisible by sh (and likewise j), each reading dy row
 * u + (a + pt - i*dh)/sh. That is a stride-1 input gradient of dy with the sub-kernel of
 * those taps (dilation dh/gcd(sh, dh)), computed into a phase buffer and spread into dx.
 * Returns false where the shifted-read kernels are off.
 */
function stridedInputGradient(
  dy: Float32Array, w: Float32Array, [N, C, H, W]: number[], [O, cg, kh, kw]: number[], [outH, outW]: number[], g: Geometry, dx: Float32Array,
): boolean {
  const og = O / g.groups;
  let phase = new Float32Array(0);
  for (let a = 0; a < Math.min(g.sh, H); a++) {
    const ti = phaseTaps(a, g.pt, g.dh, g.sh, kh);
    const Hu = Math.ceil((H - a) / g.sh);
    for (let b = 0; b < Math.min(g.sw, W); b++) {
      const tj = phaseTaps(b, g.pl, g.dw, g.sw, kw);
      const Wv = Math.ceil((W - b) / g.sw);
      // No tap reaches this phase: its entries stay 0.
      if (ti.count === 0 || tj.count === 0) continue;
      const sub = new Float32Array(O * cg * ti.count * tj.count);
      for (let o = 0; o < O; o++) {
        for (let c = 0; c < cg; c++) {
          for (let u = 0; u < ti.count; u++) {
            for (let v = 0; v < tj.count; v++) {
              sub[((o * cg + c) * ti.count + u) * tj.count + v] = w[((o * cg + c) * kh + ti.t0 + u * ti.step) * kw + tj.t0 + v * tj.step];
            }
          }
        }
      }
      // dy row of the last tap (the lowest): (a + pt - i_last*dh) / sh; the sub-kernel reads from there upward.
      const eMin = (a + g.pt - (ti.t0 + (ti.count - 1) * ti.step) * g.dh) / g.sh;
      const fMin = (b + g.pl - (tj.t0 + (tj.count - 1) * tj.step) * g.dw) / g.sw;
      if (phase.length < N * C * Hu * Wv) phase = new Float32Array(N * C * Hu * Wv);
      const a1 = {
        src: dy, N, H: outH, W: outW, groups: g.groups, cs: og, rows: cg, kh: ti.count, kw: tj.count, sh: 1, sw: 1,
        dh: g.dh / gcd(g.sh, g.dh), dw: g.dw / gcd(g.sw, g.dw), pt: -eMin, pl: -fMin, outH: Hu, outW: Wv, weight: sub, flipped: true, bias: null,
      };
      if (!winogradConv2d(a1, phase) && !shiftedConv2d(a1, phase)) {
        dx.fill(0);
        return false;
      }
      for (let plane = 0; plane < N * C; plane++) {
        for (let u = 0; u < Hu; u++) {
          const from = (plane * Hu + u) * Wv;
          const to = (plane * H + a + u * g.sh) * W + b;
          for (let v = 0; v < Wv; v++) dx[to + v * g.sw] = phase[from + v];
        }
      }
    }
  }
  return true;
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
  if (isShifted(g, false)) {
    const shifted = { src: xv, N, H, W, groups: g.groups, cs: cg, rows: og, kh, kw, sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw, pt: g.pt, pl: g.pl, outH, outW };
    const a = { ...shifted, weight: wv, flipped: false, bias: bias ? f32(bias) : null };
    if (winogradConv2d(a, y) || shiftedConv2d(a, y)) return out(y, [N, O, outH, outW]);
  }
  if (bias) {
    const bv = f32(bias);
    for (let n = 0; n < N; n++) for (let o = 0; o < O; o++) y.fill(bv[o], (n * O + o) * P, (n * O + o + 1) * P);
  }
  const pointwise = isPointwise(kh, kw, g, H, W, outH, outW);
  const L: Lowering = { H, W, kh, kw, outH, outW, g };
  const col = pointwise ? xv : scratchOf(K * P);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOff = (n * C + grp * cg) * H * W;
      const yOff = (n * O + grp * og) * P;
      // The WebAssembly path gathers the receptive fields straight into its panels.
      if (!pointwise && gemmPacked(og, P, K, wv, grp * og * K, K, 1, packIm2col(L, xv, xOff), storeInto(y, yOff, P))) continue;
      if (!pointwise) im2col(xv, xOff, cg, H, W, kh, kw, outH, outW, g, col);
      gemmStrided(og, P, K, wv, grp * og * K, K, 1, col, pointwise ? xOff : 0, P, 1, y, yOff, P);
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
  // The input gradient of a stride-1 convolution is the stride-1 convolution of dy, padded
  // by the kernel's span less the forward padding, with the flipped, transposed weight.
  if (isShifted(g, true)) {
    const pt = g.dh * (kh - 1) - g.pt;
    const pl = g.dw * (kw - 1) - g.pl;
    const shifted = { src: dyv, N, H: outH, W: outW, groups: g.groups, cs: og, rows: cg, kh, kw, sh: 1, sw: 1, dh: g.dh, dw: g.dw, pt, pl, outH: H, outW: W };
    const a = { ...shifted, weight: wv, flipped: true, bias: null };
    if (winogradConv2d(a, dx) || shiftedConv2d(a, dx)) return out(dx, [N, C, H, W]);
  }
  if (gemmKernel() === 'wasm' && stridedInputGradient(dyv, wv, [N, C, H, W], [O, cg, kh, kw], [outH, outW], g, dx)) return out(dx, [N, C, H, W]);
  const pointwise = isPointwise(kh, kw, g, H, W, outH, outW);
  const L: Lowering = { H, W, kh, kw, outH, outW, g };
  const dcol = pointwise ? dx : scratchOf(K * P);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const dxOff = (n * C + grp * cg) * H * W;
      const dyOff = (n * O + grp * og) * P;
      // The WebAssembly path scatters each finished block straight back (col2im) into dx.
      if (!pointwise && gemmPacked(K, P, og, wv, grp * og * K, 1, K, packStrided(dyv, dyOff, P, 1), storeCol2im(L, dx, dxOff))) continue;
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
  if (isShifted(g, false)) {
    const shifted = { x: xv, dy: dyv, N, H, W, groups: g.groups, cg, og, kh, kw, sh: g.sh, sw: g.sw, dh: g.dh, dw: g.dw, pt: g.pt, pl: g.pl, outH, outW };
    if (winogradConv2dFilter(shifted, dw) || shiftedConv2dFilter(shifted, dw)) return out(dw, [O, cg, kh, kw]);
  }
  const pointwise = isPointwise(kh, kw, g, H, W, outH, outW);
  const L: Lowering = { H, W, kh, kw, outH, outW, g };
  const col = pointwise ? xv : scratchOf(K * P);
  for (let n = 0; n < N; n++) {
    for (let grp = 0; grp < g.groups; grp++) {
      const xOff = (n * C + grp * cg) * H * W;
      const dyOff = (n * O + grp * og) * P;
      if (!pointwise && gemmPacked(og, K, P, dyv, dyOff, P, 1, packIm2colT(L, xv, xOff), storeInto(dw, grp * og * K, K))) continue;
      if (!pointwise) im2col(xv, xOff, cg, H, W, kh, kw, outH, outW, g, col);
      // dW_g [og, K] += dy_g [og, P] @ col^T [P, K]
      gemmStrided(og, K, P, dyv, (n * O + grp * og) * P, P, 1, col, pointwise ? xOff : 0, 1, P, dw, grp * og * K, K);
    }
  }
  return out(dw, [O, cg, kh, kw]);
});
