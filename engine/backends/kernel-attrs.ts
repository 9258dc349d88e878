/**
 * Readers for the attributes that the conv and pooling ops pass to their kernels, shared by
 * every backend so that all of them interpret a kernel call the same way.
 */
import type { Attrs } from '../core/backend.ts';

/** Convolution geometry: stride, top/left padding, dilation and groups. */
export interface ConvGeometry {
  sh: number;
  sw: number;
  pt: number;
  pl: number;
  dh: number;
  dw: number;
  groups: number;
}

export function convGeometry(attrs: Attrs): ConvGeometry {
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

/** Pooling window: kernel, stride, padding, dilation and the output size. */
export interface PoolWindow {
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  outH: number;
  outW: number;
}

export function poolWindow(attrs: Attrs): PoolWindow {
  return {
    kh: attrs.kernelH as number,
    kw: attrs.kernelW as number,
    sh: attrs.strideH as number,
    sw: attrs.strideW as number,
    ph: attrs.padH as number,
    pw: attrs.padW as number,
    dh: (attrs.dilationH as number | undefined) ?? 1,
    dw: (attrs.dilationW as number | undefined) ?? 1,
    outH: attrs.outH as number,
    outW: attrs.outW as number,
  };
}
