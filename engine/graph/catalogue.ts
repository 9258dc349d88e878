/**
 * The layer catalogue: every layer type, defined once in engine/graph/layers/. The palette,
 * property forms, shape labels, validation, compiler and exporters all read it from here.
 */
import { activationLayers } from './layers/activation.ts';
import { conv1dLayer, conv2dLayer, convTranspose2dLayer } from './layers/conv.ts';
import { linearLayer } from './layers/dense.ts';
import { inputLayers } from './layers/inputs.ts';
import { normLayers } from './layers/norm.ts';
import { adaptiveAvgPool2dLayer, avgPool2dLayer, globalAvgPoolLayer, maxPool2dLayer } from './layers/pool.ts';
import { extraLayers } from './layers/registry.ts';
import type { Category, GraphNode, LayerDef, ParamSpec, ParamValue, ParamValues, PortSpec } from './types.ts';

const CATEGORY_ORDER: readonly Category[] = [
  'Input',
  'Dense',
  'Convolution',
  'Pooling',
  'Normalization',
  'Regularization',
  'Activation',
  'Recurrent',
  'Attention',
  'Graph',
  'Merge',
  'Reshape',
  'Generative',
  'Loss',
  'Blocks',
];

let registry: Map<string, LayerDef> | null = null;

function layers(): Map<string, LayerDef> {
  if (!registry) {
    registry = new Map();
    const all = [
      ...inputLayers,
      linearLayer,
      conv1dLayer,
      conv2dLayer,
      convTranspose2dLayer,
      maxPool2dLayer,
      avgPool2dLayer,
      adaptiveAvgPool2dLayer,
      globalAvgPoolLayer,
      ...normLayers,
      ...activationLayers,
      ...extraLayers(),
    ];
    for (const def of all) {
      if (registry.has(def.type)) throw new Error(`Layer type "${def.type}" is defined twice in the catalogue`);
      registry.set(def.type, def);
    }
  }
  return registry;
}

/** Every layer type, grouped by category in palette order. */
export function listLayers(): LayerDef[] {
  return [...layers().values()].sort((a, b) => CATEGORY_ORDER.indexOf(a.category) - CATEGORY_ORDER.indexOf(b.category));
}

export function hasLayer(type: string): boolean {
  return layers().has(type);
}

export function getLayer(type: string): LayerDef {
  const def = layers().get(type);
  if (!def) throw new Error(`Unknown layer type "${type}"; the catalogue has: ${[...layers().keys()].join(', ')}`);
  return def;
}

/** Categories that have at least one layer, in palette order, with their layer types. */
export function categories(): { category: Category; types: string[] }[] {
  const res: { category: Category; types: string[] }[] = [];
  for (const c of CATEGORY_ORDER) {
    const types = listLayers().filter((d) => d.category === c).map((d) => d.type);
    if (types.length) res.push({ category: c, types });
  }
  return res;
}

export function defaultParams(type: string): ParamValues {
  const out: ParamValues = {};
  for (const [k, spec] of Object.entries(getLayer(type).params)) {
    out[k] = Array.isArray(spec.default) ? [...spec.default] : spec.default;
  }
  return out;
}

const frozenDefaults = new Map<string, Readonly<ParamValues>>();

/** The node's params with defaults filled in for any that are missing (do not mutate the result). */
export function resolvedParams(node: GraphNode): ParamValues {
  let d = frozenDefaults.get(node.type);
  if (!d) frozenDefaults.set(node.type, (d = defaultParams(node.type)));
  return { ...d, ...node.params };
}

export function inputPorts(node: GraphNode): PortSpec[] {
  return getLayer(node.type).inputs(resolvedParams(node), node);
}

export function outputPorts(node: GraphNode): PortSpec[] {
  return getLayer(node.type).outputs(resolvedParams(node), node);
}

/** Checks one parameter value against its spec; returns a message, or null when it is fine. */
export function checkParam(name: string, spec: ParamSpec, v: ParamValue | undefined): string | null {
  switch (spec.kind) {
    case 'int':
    case 'float': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${name} must be a number, got ${JSON.stringify(v)}`;
      if (spec.kind === 'int' && !Number.isInteger(v)) return `${name} must be a whole number, got ${v}`;
      if (spec.min !== undefined && v < spec.min) return `${name} must be at least ${spec.min}, got ${v}`;
      if (spec.max !== undefined && v > spec.max) return `${name} must be at most ${spec.max}, got ${v}`;
      return null;
    }
    case 'bool':
      return typeof v === 'boolean' ? null : `${name} must be true or false, got ${JSON.stringify(v)}`;
    case 'choice':
      return typeof v === 'string' && spec.options.includes(v) ? null : `${name} must be one of ${spec.options.join(', ')}, got ${JSON.stringify(v)}`;
    case 'string':
      return typeof v === 'string' ? null : `${name} must be text, got ${JSON.stringify(v)}`;
    case 'ints': {
      if (typeof v === 'string' && spec.keywords?.includes(v)) return null;
      const arr = typeof v === 'number' ? [v] : v;
      if (!Array.isArray(arr) || arr.some((x) => typeof x !== 'number' || !Number.isInteger(x))) return `${name} must be a list of whole numbers${spec.keywords?.length ? ` or one of ${spec.keywords.join(', ')}` : ''}, got ${JSON.stringify(v)}`;
      if (spec.length !== undefined && arr.length !== spec.length && arr.length !== 1) return `${name} must have ${spec.length} values, got ${arr.length}`;
      if (spec.min !== undefined && arr.some((x) => x < spec.min!)) return `every value of ${name} must be at least ${spec.min}, got [${arr.join(', ')}]`;
      return null;
    }
  }
}

/** All parameter problems of a node: unknown names, bad values, cross-field checks. */
export function validateParams(node: GraphNode): string[] {
  const def = getLayer(node.type);
  const params = resolvedParams(node);
  const errors: string[] = [];
  for (const k of Object.keys(node.params)) if (!(k in def.params)) errors.push(`unknown parameter "${k}"`);
  for (const [k, spec] of Object.entries(def.params)) {
    const msg = checkParam(k, spec, params[k]);
    if (msg) errors.push(msg);
  }
  if (!errors.length && def.validate) errors.push(...def.validate(params));
  return errors;
}
