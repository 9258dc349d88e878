/**
 * Elementwise gpu kernels: unary maps and binary/ternary ops with broadcasting, plus the
 * layout kernels that are pure index maps (Transpose, BroadcastTo) and Reshape as a view.
 * Formulas follow the CPU reference (backends/cpu/elementwise.ts).
 */
import { type Attrs, type DType, registerKernel, type TensorInfo } from '../../core/backend.ts';
import { broadcastShapes, type Shape, shapeStr, sizeOf, stridesOf } from '../../core/shape.ts';
import { broadcastStrides, coordinates, dot, lit, mergeDims, params } from './codegen.ts';
import { gpuBackend } from './gpu-backend.ts';

/**
 * out[i] = body(v0, v1, ...) where v_j is input j read at output index i through its
 * `strides` (one per output dim; 0 broadcasts).
 */
export function mapKernel(
  inputs: readonly TensorInfo[], strides: readonly number[][], shape: Shape, body: (v: string[]) => string, dtype: DType = 'float32',
): TensorInfo {
  const merged = mergeDims(shape, [stridesOf(shape), ...strides]);
  const { code, coords } = coordinates('i', merged.shape, 'c');
  const reads = inputs.map((_, j) => `const v${j} = a${j}[${dot(coords, merged.strides[j + 1])}];`);
  const source = `function(${params(inputs.length)}) {
const i = this.thread.x;
${code}
${reads.join('\n')}
return ${body(inputs.map((_, j) => `v${j}`))};
}`;
  return gpuBackend.run(source, inputs, shape, dtype);
}

/** Elementwise op over inputs broadcast together (as the CPU's binaryLoop / Where). */
function broadcastKernel(inputs: readonly TensorInfo[], name: string, body: (v: string[]) => string): TensorInfo {
  const shape = inputs.slice(1).reduce<Shape>((s, t) => broadcastShapes(s, t.shape, name), inputs[0].shape);
  return mapKernel(inputs, inputs.map((t) => broadcastStrides(t.shape, shape)), shape, body);
}

const BINARY: Record<string, (x: string, y: string) => string> = {
  Add: (x, y) => `${x} + ${y}`,
  Sub: (x, y) => `${x} - ${y}`,
  Mul: (x, y) => `${x} * ${y}`,
  Div: (x, y) => `${x} / ${y}`,
  Maximum: (x, y) => `(${x} >= ${y} ? ${x} : ${y})`,
  Minimum: (x, y) => `(${x} <= ${y} ? ${x} : ${y})`,
  Greater: (x, y) => `(${x} > ${y} ? 1.0 : 0.0)`,
  GreaterEqual: (x, y) => `(${x} >= ${y} ? 1.0 : 0.0)`,
  Less: (x, y) => `(${x} < ${y} ? 1.0 : 0.0)`,
  LessEqual: (x, y) => `(${x} <= ${y} ? 1.0 : 0.0)`,
  Equal: (x, y) => `(${x} === ${y} ? 1.0 : 0.0)`,
};

for (const [name, fn] of Object.entries(BINARY)) {
  registerKernel(name, 'gpu', ([a, b]) => broadcastKernel([a, b], name, ([x, y]) => fn(x, y)));
}

registerKernel('Where', 'gpu', ([c, a, b]) => broadcastKernel([c, a, b], 'where', ([cv, x, y]) => `(${cv} === 0.0 ? ${y} : ${x})`));

/** Unary maps; `attrs` feeds the parameterised ones (LeakyRelu, Clamp). */
const UNARY: Record<string, (x: string, attrs: Attrs) => string> = {
  Neg: (x) => `-${x}`,
  Exp: (x) => `Math.exp(${x})`,
  Log: (x) => `Math.log(${x})`,
  Sqrt: (x) => `Math.sqrt(${x})`,
  Abs: (x) => `Math.abs(${x})`,
  Sign: (x) => `(${x} > 0.0 ? 1.0 : (${x} < 0.0 ? -1.0 : 0.0))`,
  Step: (x) => `(${x} > 0.0 ? 1.0 : 0.0)`,
  Square: (x) => `${x} * ${x}`,
  Reciprocal: (x) => `1.0 / ${x}`,
  Relu: (x) => `(${x} > 0.0 ? ${x} : 0.0)`,
  // The two branches keep exp's argument non-positive, as the CPU kernel does.
  Sigmoid: (x) => `(${x} >= 0.0 ? 1.0 / (1.0 + Math.exp(-${x})) : Math.exp(${x}) / (1.0 + Math.exp(${x})))`,
  Tanh: (x) => `Math.tanh(${x})`,
  Sin: (x) => `Math.sin(${x})`,
  Cos: (x) => `Math.cos(${x})`,
  LeakyRelu: (x, attrs) => `(${x} > 0.0 ? ${x} : ${lit(attrs.negativeSlope as number)} * ${x})`,
  Clamp: (x, attrs) => {
    const lo = attrs.min as number | null | undefined;
    const hi = attrs.max as number | null | undefined;
    let e = x;
    if (lo !== null && lo !== undefined && Number.isFinite(lo)) e = `Math.max(${e}, ${lit(lo)})`;
    if (hi !== null && hi !== undefined && Number.isFinite(hi)) e = `Math.min(${e}, ${lit(hi)})`;
    return e;
  },
};

for (const [name, fn] of Object.entries(UNARY)) {
  registerKernel(name, 'gpu', ([x], attrs) => mapKernel([x], [stridesOf(x.shape)], x.shape, ([v]) => fn(v, attrs)));
}

/** Reshape is a view: the new tensor shares the storage. */
registerKernel('Reshape', 'gpu', ([x], attrs) => {
  const shape = attrs.shape as Shape;
  if (sizeOf(shape) !== sizeOf(x.shape)) throw new Error(`reshape: cannot view ${shapeStr(x.shape)} as ${shapeStr(shape)}`);
  return { shape: [...shape], dtype: x.dtype, dataId: gpuBackend.view(x) };
});

registerKernel('Transpose', 'gpu', ([x], attrs) => {
  const perm = attrs.perm as number[];
  const inStrides = stridesOf(x.shape);
  // Index maps keep int32 tensors int32 (stored as exact floats on the device).
  return mapKernel([x], [perm.map((p) => inStrides[p])], perm.map((p) => x.shape[p]), ([v]) => v, x.dtype);
});

registerKernel('BroadcastTo', 'gpu', ([x], attrs) => {
  const shape = attrs.shape as number[];
  const offset = shape.length - x.shape.length;
  x.shape.forEach((d, i) => {
    if (d !== 1 && d !== shape[i + offset]) throw new Error(`expand: cannot broadcast ${shapeStr(x.shape)} to ${shapeStr(shape)}`);
  });
  return mapKernel([x], [broadcastStrides(x.shape, shape)], shape, ([v]) => v, x.dtype);
});

/**
 * Fused activation gradients, inputs [dy, t] of one shape (as the CPU's): ReluGrad dy·(x > 0)
 * with t = x, SigmoidGrad dy·y(1 - y) and TanhGrad dy·(1 - y²) with t = the forward output y.
 */
const ACTIVATION_GRADS: Record<string, (dy: string, t: string) => string> = {
  ReluGrad: (dy, x) => `(${x} > 0.0 ? ${dy} : 0.0)`,
  SigmoidGrad: (dy, y) => `${dy} * ${y} * (1.0 - ${y})`,
  TanhGrad: (dy, y) => `${dy} * (1.0 - ${y} * ${y})`,
};

for (const [name, fn] of Object.entries(ACTIVATION_GRADS)) {
  registerKernel(name, 'gpu', ([dy, t]) => {
    if (sizeOf(dy.shape) !== sizeOf(t.shape)) throw new Error(`${name}: gradient ${shapeStr(dy.shape)} and saved tensor ${shapeStr(t.shape)} differ in size`);
    const strides = stridesOf(t.shape);
    return mapKernel([dy, t], [strides, strides], t.shape, ([g, v]) => fn(g, v));
  });
}

/** A constant tensor is written by the host and uploaded when a kernel first reads it. */
registerKernel('Fill', 'gpu', (_inputs, attrs) => {
  const shape = attrs.shape as Shape;
  const dtype: DType = attrs.dtype === 'int32' ? 'int32' : 'float32';
  const values = dtype === 'int32' ? new Int32Array(sizeOf(shape)) : new Float32Array(sizeOf(shape));
  values.fill(attrs.value as number);
  return { shape: [...shape], dtype, dataId: gpuBackend.write(values, shape, dtype) };
});

/** float32 → int32 truncates toward zero (as the CPU's Math.trunc); int32 → float32 is exact. */
registerKernel('Cast', 'gpu', ([x], attrs) => {
  const dtype: DType = attrs.dtype === 'int32' ? 'int32' : 'float32';
  const strides = stridesOf(x.shape);
  if (dtype === 'float32' || x.dtype === 'int32') return mapKernel([x], [strides], x.shape, ([v]) => v, dtype);
  return mapKernel([x], [strides], x.shape, ([v]) => `(${v} >= 0.0 ? Math.floor(${v}) : Math.ceil(${v}))`, dtype);
});
