import { describe, expect, it } from 'vitest';
import type { GraphNode, LayerDef, ModelGraph, ParamValues } from '../../../engine/graph/types.ts';
import { addLayer, autoLayout, clearPretrained, connect, copyClip, duplicate, group, importLayers, moveNodes, paste, removeItems, setParam, setTraining, toggleExpanded, ungroup } from '../actions.ts';
import { emptyDocument } from '../document.ts';
import type { LayerServices } from '../services.ts';
import { createEditorStore, isDirty } from '../store.ts';

/** A two-layer stand-in for the catalogue: a source with one output and a unit with one input and one output. */
function fakeLayers(): LayerServices {
  const def = (type: string, inputs: string[]): LayerDef =>
    ({
      type,
      category: 'Dense',
      displayName: type,
      description: '',
      inputs: () => inputs.map((name) => ({ name, kind: 'tensor' })),
      outputs: () => [{ name: 'out', kind: 'tensor' }],
      params: { width: { kind: 'int', default: 4, min: 1 } },
      infer: () => [],
      paramCount: () => 0,
      flops: () => 0,
      build: () => ({ module: null, run: (x) => x }),
      inspect: [],
    }) satisfies LayerDef;
  const defs: Record<string, LayerDef> = { Source: def('Source', []), Unit: def('Unit', ['in']) };
  return {
    getLayer: (t) => defs[t],
    defaultParams: (): ParamValues => ({ width: 4 }),
    canConnect: (g, e) => (g.nodes.find((n) => n.id === e.target)?.params.width === 99 ? 'width 99 takes no input' : null),
    blocks: () => [{ id: 'pair', displayName: 'Pair', description: 'two units' }],
    makeBlock: (_t, id) => ({ id, type: 'Block', params: {}, subgraph: { nodes: [], edges: [], inputs: [], outputs: [] } }),
    groupNodes(g: ModelGraph, ids: string[], blockId: string): ModelGraph {
      const inner = g.nodes.filter((n) => ids.includes(n.id));
      const block: GraphNode = { id: blockId, type: 'Block', params: {}, subgraph: { nodes: inner, edges: g.edges.filter((e) => ids.includes(e.source) && ids.includes(e.target)), inputs: [], outputs: [] } };
      return { nodes: [...g.nodes.filter((n) => !ids.includes(n.id)), block], edges: g.edges.filter((e) => !ids.includes(e.source) && !ids.includes(e.target)) };
    },
    ungroupNode(g: ModelGraph, id: string) {
      const block = g.nodes.find((n) => n.id === id)!;
      const inner = block.subgraph!;
      return { graph: { nodes: [...g.nodes.filter((n) => n.id !== id), ...inner.nodes], edges: [...g.edges, ...inner.edges] }, nodeIds: inner.nodes.map((n) => n.id) };
    },
  };
}

function chain() {
  const store = createEditorStore(fakeLayers(), emptyDocument());
  store.dispatch(addLayer, { type: 'Source', position: { x: 0, y: 0 } });
  store.dispatch(addLayer, { type: 'Unit', position: { x: 200, y: 0 } });
  store.dispatch(addLayer, { type: 'Unit', position: { x: 400, y: 0 } });
  const [a, b, c] = store.getState().doc.graph.nodes.map((n) => n.id);
  expect(store.dispatch(connect, { source: a, sourcePort: 'out', target: b, targetPort: 'in' })).toEqual({ ok: true });
  expect(store.dispatch(connect, { source: b, sourcePort: 'out', target: c, targetPort: 'in' })).toEqual({ ok: true });
  return { store, a, b, c };
}

describe('editor store', () => {
  it('adds layers with catalogue defaults, selects them and refuses unknown types', () => {
    const store = createEditorStore(fakeLayers());
    expect(store.dispatch(addLayer, { type: 'Unit', position: { x: 5, y: 6 } })).toEqual({ ok: true });
    const { doc, selection } = store.getState();
    expect(doc.graph.nodes).toEqual([{ id: 'unit_1', type: 'Unit', params: { width: 4 } }]);
    expect(doc.ui.positions.unit_1).toEqual({ x: 5, y: 6 });
    expect(selection).toEqual(['unit_1']);
    const refused = store.dispatch(addLayer, { type: 'Nope', position: { x: 0, y: 0 } });
    expect(refused).toEqual({ ok: false, message: 'There is no layer type "Nope" in the catalogue.' });
    expect(store.getState().past.map((e) => e.name)).toEqual(['Add Unit']);
  });

  it('freezes a layer and sets its learning-rate scale in undoable steps, keeping the document free of defaults', () => {
    const { store, b } = chain();
    const node = () => store.getState().doc.graph.nodes.find((n) => n.id === b)!;
    expect(store.dispatch(setTraining, { nodeId: b, frozen: true })).toEqual({ ok: true });
    expect(node().frozen).toBe(true);
    expect(store.dispatch(setTraining, { nodeId: b, frozen: true })).toEqual({ ok: false, message: 'Nothing to change.' });
    expect(store.dispatch(setTraining, { nodeId: b, lrScale: 0.1 })).toEqual({ ok: true });
    expect(node()).toMatchObject({ frozen: true, lrScale: 0.1 });
    expect(store.dispatch(setTraining, { nodeId: b, lrScale: -1 })).toEqual({ ok: false, message: 'The learning-rate scale must be a number of at least 0, got -1.' });
    expect(store.dispatch(setTraining, { nodeId: 'nope', frozen: true })).toEqual({ ok: false, message: 'There is no layer "nope".' });
    // Back to the defaults: the fields leave the node rather than being stored as false / 1.
    store.dispatch(setTraining, { nodeId: b, frozen: false });
    store.dispatch(setTraining, { nodeId: b, lrScale: 1 });
    expect(node()).not.toHaveProperty('frozen');
    expect(node()).not.toHaveProperty('lrScale');
    expect(store.undo()).toBe('Set learning-rate scale 1');
    expect(store.undo()).toBe('Unfreeze layer');
    expect(node()).toMatchObject({ frozen: true, lrScale: 0.1 });
    expect(store.undo()).toBe('Set learning-rate scale 0.1');
    expect(store.undo()).toBe('Freeze layer');
    expect(node()).not.toHaveProperty('frozen');
  });

  it('undoes and redoes each named action, and a new edit clears redo', () => {
    const { store, b } = chain();
    expect(store.dispatch(setParam, { nodeId: b, name: 'width', value: 8 })).toEqual({ ok: true });
    expect(store.getState().past.map((e) => e.name)).toEqual(['Add Source', 'Add Unit', 'Add Unit', 'Connect', 'Connect', 'Change width']);
    expect(store.undo()).toBe('Change width');
    expect(store.getState().doc.graph.nodes[1].params.width).toBe(4);
    expect(store.undo()).toBe('Connect');
    expect(store.getState().doc.graph.edges).toHaveLength(1);
    expect(store.redo()).toBe('Connect');
    expect(store.getState().doc.graph.edges).toHaveLength(2);
    store.dispatch(removeItems, { ids: [b] });
    expect(store.getState().doc.graph.edges).toHaveLength(0);
    expect(store.redo()).toBeNull();
    expect(store.undo()).toBe('Delete layer');
    expect(store.getState().doc.graph.nodes.map((n) => n.id)).toContain(b);
  });

  it('passes on the refusal reason of an incompatible connection and replaces an occupied input', () => {
    const { store, a, b, c } = chain();
    store.dispatch(setParam, { nodeId: c, name: 'width', value: 99 });
    expect(store.dispatch(connect, { source: a, sourcePort: 'out', target: c, targetPort: 'in' })).toEqual({ ok: false, message: 'width 99 takes no input' });
    store.dispatch(setParam, { nodeId: c, name: 'width', value: 3 });
    expect(store.dispatch(connect, { source: a, sourcePort: 'out', target: c, targetPort: 'in' })).toEqual({ ok: true });
    const into = store.getState().doc.graph.edges.filter((e) => e.target === c);
    expect(into.map((e) => e.source)).toEqual([a]);
    expect(store.dispatch(connect, { source: b, sourcePort: 'out', target: b, targetPort: 'in' })).toEqual({ ok: false, message: 'A layer cannot be connected to itself.' });
  });

  it('makes one history entry per drag, however many moves it had', () => {
    const { store, a } = chain();
    const before = store.getState().past.length;
    for (let x = 1; x <= 30; x++) store.dispatch(moveNodes, { positions: { [a]: { x, y: 2 * x } } });
    expect(store.getState().past.length).toBe(before);
    store.commit();
    expect(store.getState().past.length).toBe(before + 1);
    expect(store.getState().past.at(-1)!.name).toBe('Move layer');
    expect(store.undo()).toBe('Move layer');
    expect(store.getState().doc.ui.positions[a]).toEqual({ x: 0, y: 0 });
    expect(store.redo()).toBe('Move layer');
    expect(store.getState().doc.ui.positions[a]).toEqual({ x: 30, y: 60 });
  });

  it('tracks unsaved changes against the last save, including undoing back to it', () => {
    const { store, b } = chain();
    expect(isDirty(store.getState())).toBe(true);
    store.markSaved();
    expect(isDirty(store.getState())).toBe(false);
    store.dispatch(setParam, { nodeId: b, name: 'width', value: 7 });
    expect(isDirty(store.getState())).toBe(true);
    store.undo();
    expect(isDirty(store.getState())).toBe(false);
    store.load(emptyDocument('Recovered'), { dirty: true });
    expect(isDirty(store.getState())).toBe(true);
    expect(store.getState().past).toEqual([]);
  });

  it('copies, pastes and duplicates layers with fresh ids and their inner connections', () => {
    const { store, a, b, c } = chain();
    const clip = copyClip(store.getState().doc, [b, c])!;
    expect(clip.edges).toHaveLength(1);
    store.dispatch(paste, { clip });
    const { doc, selection } = store.getState();
    expect(selection).toEqual(['unit_3', 'unit_4']);
    expect(doc.graph.edges.at(-1)).toMatchObject({ source: 'unit_3', target: 'unit_4' });
    expect(doc.ui.positions.unit_3).toEqual({ x: 240, y: 40 });
    store.dispatch(duplicate, { ids: [a] });
    expect(store.getState().doc.graph.nodes.at(-1)).toMatchObject({ id: 'source_2', type: 'Source' });
    expect(store.dispatch(duplicate, { ids: [] })).toEqual({ ok: false, message: 'Select the layers to duplicate first.' });
  });

  it('groups into a block, expands and collapses it, ungroups, each undoable', () => {
    const { store, b, c } = chain();
    expect(store.dispatch(group, { ids: [b] })).toEqual({ ok: false, message: 'Select at least two layers to group into a block.' });
    expect(store.dispatch(group, { ids: [b, c] })).toEqual({ ok: true });
    const blockId = store.getState().selection[0];
    expect(store.getState().doc.graph.nodes.map((n) => n.id)).toEqual(['source_1', blockId]);
    expect(store.getState().doc.ui.positions[blockId]).toEqual({ x: 300, y: 0 });
    store.dispatch(toggleExpanded, { id: blockId });
    expect(store.getState().doc.ui.expanded).toEqual([blockId]);
    store.dispatch(toggleExpanded, { id: blockId });
    expect(store.getState().doc.ui.expanded).toEqual([]);
    expect(store.dispatch(ungroup, { id: blockId })).toEqual({ ok: true });
    expect(store.getState().doc.graph.nodes.map((n) => n.id).sort()).toEqual(['source_1', b, c].sort());
    expect(store.getState().selection).toEqual([b, c]);
    expect(store.undo()).toBe('Ungroup block');
    expect(store.undo()).toBe('Collapse block');
    expect(store.undo()).toBe('Expand block');
    expect(store.undo()).toBe('Group 2 layers into a block');
    expect(store.getState().doc.graph.nodes).toHaveLength(3);
  });

  it('arranges the graph in layers from left to right as one undoable action', () => {
    const { store, a, b, c } = chain();
    store.dispatch(addLayer, { type: 'Unit', position: { x: -500, y: 900 } });
    store.dispatch(connect, { source: a, sourcePort: 'out', target: 'unit_3', targetPort: 'in' });
    store.dispatch(autoLayout, {});
    const p = store.getState().doc.ui.positions;
    expect(p[a].x).toBeLessThan(p[b].x);
    expect(p[b].x).toBeLessThan(p[c].x);
    expect(p.unit_3.x).toBe(p[b].x);
    expect(p.unit_3.y).not.toBe(p[b].y);
    expect(store.undo()).toBe('Arrange layers');
    expect(store.getState().doc.ui.positions.unit_3).toEqual({ x: -500, y: 900 });
  });

  it('imports layers below the current ones in one undoable step; copies and blocks leave the pretrained marker alone', () => {
    const { store, a, b, c } = chain();
    const doc = store.getState().doc;
    const graph: ModelGraph = {
      nodes: [...doc.graph.nodes, { id: 'enc', type: 'Unit', params: { width: 4 }, pretrained: 'ae.aps › enc', frozen: true }, { id: 'enc_act', type: 'Unit', params: { width: 4 } }],
      edges: [...doc.graph.edges, { id: 'e1', source: a, sourcePort: 'out', target: 'enc', targetPort: 'in' }, { id: 'e2', source: 'enc', sourcePort: 'out', target: 'enc_act', targetPort: 'in' }],
    };
    expect(store.dispatch(importLayers, { graph, added: ['enc', 'enc_act'], source: 'ae.aps' })).toEqual({ ok: true });
    const after = store.getState();
    expect(after.selection).toEqual(['enc', 'enc_act']);
    const p = after.doc.ui.positions;
    // Below every existing layer, left to right in flow order.
    expect(Math.min(p.enc.y, p.enc_act.y)).toBeGreaterThan(Math.max(p[a].y, p[b].y, p[c].y));
    expect(p.enc_act.x).toBeGreaterThan(p.enc.x);
    // A graph that drops layers is not an import.
    expect(store.dispatch(importLayers, { graph: { nodes: graph.nodes.slice(1), edges: [] }, added: ['enc'], source: 'x.aps' }).ok).toBe(false);

    // Copies start from random values; a block would rename the layer's weights.
    store.dispatch(duplicate, { ids: ['enc'] });
    const copy = store.getState().doc.graph.nodes.at(-1)!;
    expect(copy.type).toBe('Unit');
    expect(copy).not.toHaveProperty('pretrained');
    expect(copy.frozen).toBe(true);
    const refused = store.dispatch(group, { ids: ['enc', 'enc_act'] });
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.message).toMatch(/^enc starts from imported weights, kept by layer id/);

    expect(store.dispatch(clearPretrained, { nodeId: 'enc' })).toEqual({ ok: true });
    expect(store.getState().doc.graph.nodes.find((n) => n.id === 'enc')).not.toHaveProperty('pretrained');
    expect(store.dispatch(clearPretrained, { nodeId: 'enc' })).toEqual({ ok: false, message: '"enc" already starts from random values.' });
    expect(store.undo()).toBe('Start layer from random values');
    expect(store.undo()).toBe('Duplicate');
    expect(store.undo()).toBe('Import layers from ae.aps');
    expect(store.getState().doc.graph.nodes.map((n) => n.id)).toEqual([a, b, c]);
  });
});
