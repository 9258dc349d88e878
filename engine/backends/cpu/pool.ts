/**
 * 2-D pooling kernels on the CPU (NCHW) and their gradients: max (with argmax indices, as
 * torch's `return_indices`), average (torch's divisor rules), adaptive average.
 *
 * Window attributes: kernelH, kernelW, strideH, strideW, padH, padW, dilationH, dilationW
 * (max only), outH, outW. Ceil mode is already folded into outH/outW by the op.
 */
import { registerKernel } from '../../core/backend.ts';
import { poolWindow as windowOf, type PoolWindow as Window } from '../kernel-attrs.ts';
import { f32, i32, out } from './cpu-backend.ts';
import { maxPool2GradSimd, maxPool2Simd } from './pool-simd.ts';

let fastPaths = true;
let wasmPool = true;

/** Turns the unchecked paths for windows inside the input on or off (for tests); returns the previous setting. */
export function setPoolFastPaths(on: boolean): boolean {
  const was = fastPaths;
  fastPaths = on;
  return was;
}

/** Turns the WebAssembly 2x2 stride-2 max pooling (forward and gradient) on or off (for tests); returns the previous setting. */
export function setPoolWasm(on: boolean): boolean {
  const was = wasmPool;
  wasmPool = on;
  return was;
}


/** Whether every window lies inside the input (no padding, no ceil-mode overhang): no bounds checks needed. */
function allInside(p: Window, H: number, W: number): boolean {
  return p.ph === 0 && p.pw === 0 && (p.outH - 1) * p.sh + (p.kh - 1) * p.dh < H && (p.outW - 1) * p.sw + (p.kw - 1) * p.dw < W;
}

/** Max pooling with every window inside the input; the 2x2, stride-2 window is unrolled. */
function maxPoolInside(xv: Float32Array, planes: number, H: number, W: number, p: Window, y: Float32Array, idx: Int32Array): void {
  const { kh, kw, sh, sw, dh, dw, outH, outW } = p;
  let o = 0;
  if (kh === 2 && kw === 2 && sh === 2 && sw === 2 && dh === 1 && dw === 1) {
    if (wasmPool && maxPool2Simd(xv, planes, H, W, outH, outW, y, idx)) return;
    for (let pl = 0; pl < planes; pl++) {
      const base = pl * H * W;
      for (let oh = 0; oh < outH; oh++) {
        for (let ow = 0, i = 2 * oh * W; ow < outW; ow++, i += 2, o++) {
          let best = xv[base + i];
          let at = i;
          let v = xv[base + i + 1];
          if (v > best || v !== v) { best = v; at = i + 1; }
          v = xv[base + i + W];
          if (v > best || v !== v) { best = v; at = i + W; }
          v = xv[base + i + W + 1];
          if (v > best || v !== v) { best = v; at = i + W + 1; }
          y[o] = best;
          idx[o] = at;
        }
      }
    }
    return;
  }
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < outH; oh++) {
      for (let ow = 0; ow < outW; ow++, o++) {
        const first = oh * sh * W + ow * sw;
        let best = -Infinity;
        let at = first;
        for (let i = 0; i < kh; i++) {
          for (let j = 0, e = first + i * dh * W; j < kw; j++, e += dw) {
            const v = xv[base + e];
            if (v > best || v !== v) { best = v; at = e; }
          }
        }
        y[o] = best;
        idx[o] = at;
      }
    }
  }
}

/**
 * MaxPool2D: x [N, C, H, W] -> values [N, C, Ho, Wo] and int32 indices (h*W + w in the
 * plane). As torch, a window's first maximum wins, except that NaN propagates (the last
 * NaN's index).
 */
registerKernel('MaxPool2D', 'cpu', ([x], attrs) => {
  const p = windowOf(attrs);
  const [N, C, H, W] = x.shape;
  const xv = f32(x);
  const planes = N * C;
  const P = p.outH * p.outW;
  const y = new Float32Array(planes * P);
  const idx = new Int32Array(planes * P);
  if (fastPaths && allInside(p, H, W)) {
    maxPoolInside(xv, planes, H, W, p, y, idx);
    return [out(y, [N, C, p.outH, p.outW]), out(idx, [N, C, p.outH, p.outW], 'int32')];
  }
  for (let pl = 0; pl < planes; pl++) {
    const base = pl * H * W;
    let o = pl * P;
    for (let oh = 0; oh < p.outH; oh++) {
      const h0 = oh * p.sh - p.ph;
      for (let ow = 0; ow < p.outW; ow++, o++) {
        const w0 = ow * p.sw - p.pw;
        let best = -Infinity;
        let bestIdx = -1;
        for (let i = 0; i < p.kh; i++) {
          const h = h0 + i * p.dh;
          if (h < 0 || h >= H) continue;
          for (let j = 0; j < p.kw; j++) {
            const w = w0 + j * p.dw;
            if (w < 0 || w >= W) continue;
            const v = xv[base + h * W + w];
            if (v > best || bestIdx < 0 || v !== v) {
              best = v;
              bestIdx = h * W + w;
            }
          }
        }
        y[o] = best;
        idx[o] = bestIdx;
      }
    }
  }
  return [out(y, [N, C, p.outH, p.outW]), out(idx, [N, C, p.outH, p.outW], 'int32')];
});

/**
 * Gradient of MaxPool2D: dy and the indices it returned; attrs as the forward + inputShape.
 * Each dy adds into the input position its index names; 2x2 stride-2 windows inside the
 * input do not overlap, so there each input position gets one dy or +0 (WebAssembly SIMD).
 */
registerKernel('MaxPool2DGrad', 'cpu', ([dy, indices], attrs) => {
  const [N, C, H, W] = attrs.inputShape as number[];
  const dyv = f32(dy);
  const iv = i32(indices);
  const P = dy.shape[2] * dy.shape[3];
  const dx = new Float32Array(N * C * H * W);
  if (fastPaths && wasmPool && attrs.kernelH === 2 && attrs.kernelW === 2 && attrs.strideH === 2 && attrs.strideW === 2) {
    const p = windowOf(attrs);
    if (p.dh === 1 && p.dw === 1 && allInside(p, H, W) && maxPool2GradSimd(dyv, iv, dx, N * C, H, W, p.outH, p.outW)) return out(dx, [N, C, H, W]);
  }
  for (let pl = 0; pl < N * C; pl++) {
    const base = pl * H * W;
    for (let o = pl * P, end = o + P; o < end; o++) if (iv[o] >= 0) dx[base + iv[o]] += dyv[o];
  }
  return out(dx, [N, C, H, W]);
});

/**
 * Visits every average-pooling window as torch does: the divisor counts padding (but not
 * the ceil-mode overhang) when countIncludePad, otherwise only the in-bounds elements.
 */
function forEachAvgWindow(
  p: Window, H: number, W: number, countIncludePad: boolean,
  visit: (o: number, h0: number, h1: number, w0: number, w1: number, scale: number) => void,
): void {
  let o = 0;
  for (let oh = 0; oh < p.outH; oh++) {
    let h0 = oh * p.sh - p.ph;
    let h1 = Math.min(h0 + p.kh, H + p.ph);
    const poolH = h1 - h0;
    h0 = Math.max(h0, 0);
    h1 = Math.min(h1, H);
    for (let ow = 0; ow < p.outW; ow++, o++) {
      let w0 = ow * p.sw - p.pw;
      let w1 = Math.min(w0 + p.kw, W + p.pw);
      const poolW = w1 - w0;
      w0 = Math.max(w0, 0);
      w1 = Math.min(w1, W);
      if (h0 >= h1 || w0 >= w1) continue;
      const count = countIncludePad ? poolH * poolW : (h1 - h0) * (w1 - w0);
      visit(o, h0, h1, w0, w1, 1 / count);
    }
  }
}

/** AvgPool2D: x [N, C, H, W] -> [N, C, Ho, Wo]; attrs + countIncludePad. */
registerKernel('AvgPool2D', 'cpu', ([x], attrs) => {
  const p = windowOf(attrs);
  const [N, C, H, W] = x.shape;
  const xv = f32(x);
  const P = p.outH * p.outW;
  const y = new Float32Array(N * C * P);
  if (fastPaths && allInside(p, H, W)) {
    const scale = 1 / (p.kh * p.kw);
    let o = 0;
    if (p.kh === 2 && p.kw === 2 && p.sh === 2 && p.sw === 2) {
      // The 2x2 stride-2 window unrolled, adding in the same order as the loop below.
      for (let pl = 0; pl < N * C; pl++) {
        for (let oh = 0; oh < p.outH; oh++) {
          for (let ow = 0, r = pl * H * W + 2 * oh * W; ow < p.outW; ow++, o++, r += 2) {
            y[o] = (0 + xv[r] + xv[r + 1] + xv[r + W] + xv[r + W + 1]) * scale;
          }
        }
      }
      return out(y, [N, C, p.outH, p.outW]);
    }
    for (let pl = 0; pl < N * C; pl++) {
      const base = pl * H * W;
      for (let oh = 0; oh < p.outH; oh++) {
        for (let ow = 0; ow < p.outW; ow++, o++) {
          let s = 0;
          for (let i = 0, r = base + oh * p.sh * W + ow * p.sw; i < p.kh; i++, r += W) for (let j = 0; j < p.kw; j++) s += xv[r + j];
          y[o] = s * scale;
        }
      }
    }
    return out(y, [N, C, p.outH, p.outW]);
  }
  for (let pl = 0; pl < N * C; pl++) {
    const base = pl * H * W;
    const yo = pl * P;
    forEachAvgWindow(p, H, W, attrs.countIncludePad === true, (o, h0, h1, w0, w1, scale) => {
      let s = 0;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += xv[base + h * W + w];
      y[yo + o] = s * scale;
    });
  }
  return out(y, [N, C, p.outH, p.outW]);
});

/** Gradient of AvgPool2D: dy; attrs as the forward + inputShape. */
registerKernel('AvgPool2DGrad', 'cpu', ([dy], attrs) => {
  const p = windowOf(attrs);
  const [N, C, H, W] = attrs.inputShape as number[];
  const dyv = f32(dy);
  const P = p.outH * p.outW;
  const dx = new Float32Array(N * C * H * W);
  if (fastPaths && allInside(p, H, W)) {
    const scale = 1 / (p.kh * p.kw);
    let o = 0;
    if (p.kh === 2 && p.kw === 2 && p.sh === 2 && p.sw === 2) {
      // Windows that do not overlap: each position gets 0 + its window's share, as the adds below give.
      for (let pl = 0; pl < N * C; pl++) {
        for (let oh = 0; oh < p.outH; oh++) {
          for (let ow = 0, r = pl * H * W + 2 * oh * W; ow < p.outW; ow++, o++, r += 2) {
            const g = 0 + dyv[o] * scale;
            dx[r] = g;
            dx[r + 1] = g;
            dx[r + W] = g;
            dx[r + W + 1] = g;
          }
        }
      }
      return out(dx, [N, C, H, W]);
    }
    for (let pl = 0; pl < N * C; pl++) {
      const base = pl * H * W;
      for (let oh = 0; oh < p.outH; oh++) {
        for (let ow = 0; ow < p.outW; ow++, o++) {
          const g = dyv[o] * scale;
          for (let i = 0, r = base + oh * p.sh * W + ow * p.sw; i < p.kh; i++, r += W) for (let j = 0; j < p.kw; j++) dx[r + j] += g;
        }
      }
    }
    return out(dx, [N, C, H, W]);
  }
  for (let pl = 0; pl < N * C; pl++) {
    const base = pl * H * W;
    const yo = pl * P;
    forEachAvgWindow(p, H, W, attrs.countIncludePad === true, (o, h0, h1, w0, w1, scale) => {
      const g = dyv[yo + o] * scale;
      for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx[base + h * W + w] += g;
    });
  }
  return out(dx, [N, C, H, W]);
});

/** Output cell o of n covers input [floor(o*L/n), ceil((o+1)*L/n)), as torch. */
function adaptiveStart(o: number, outSize: number, inSize: number): number {
  return Math.floor((o * inSize) / outSize);
}
function adaptiveEnd(o: number, outSize: number, inSize: number): number {
  return Math.ceil(((o + 1) * inSize) / outSize);
}

/** AdaptiveAvgPool2D: x [N, C, H, W] -> [N, C, outH, outW]. */
registerKernel('AdaptiveAvgPool2D', 'cpu', ([x], attrs) => {
  const outH = attrs.outH as number;
  const outW = attrs.outW as number;
  const [N, C, H, W] = x.shape;
  const xv = f32(x);
  const y = new Float32Array(N * C * outH * outW);
  let o = 0;
  for (let pl = 0; pl < N * C; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = adaptiveStart(oh, outH, H);
      const h1 = adaptiveEnd(oh, outH, H);
      for (let ow = 0; ow < outW; ow++, o++) {
        const w0 = adaptiveStart(ow, outW, W);
        const w1 = adaptiveEnd(ow, outW, W);
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += xv[base + h * W + w];
        y[o] = s / ((h1 - h0) * (w1 - w0));
      }
    }
  }
  return out(y, [N, C, outH, outW]);
});

/** Gradient of AdaptiveAvgPool2D: dy [N, C, outH, outW]; attrs inputShape. */
registerKernel('AdaptiveAvgPool2DGrad', 'cpu', ([dy], attrs) => {
  const [N, C, H, W] = attrs.inputShape as number[];
  const [, , outH, outW] = dy.shape;
  const dyv = f32(dy);
  const dx = new Float32Array(N * C * H * W);
  let o = 0;
  for (let pl = 0; pl < N * C; pl++) {
    const base = pl * H * W;
    for (let oh = 0; oh < outH; oh++) {
      const h0 = adaptiveStart(oh, outH, H);
      const h1 = adaptiveEnd(oh, outH, H);
      for (let ow = 0; ow < outW; ow++, o++) {
        const w0 = adaptiveStart(ow, outW, W);
        const w1 = adaptiveEnd(ow, outW, W);
        const g = dyv[o] / ((h1 - h0) * (w1 - w0));
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) dx[base + h * W + w] += g;
      }
    }
  }
  return out(dx, [N, C, H, W]);
});
