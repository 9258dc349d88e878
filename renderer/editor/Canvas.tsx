import {
  Background,
  BackgroundVariant,
  Controls,
  MiniMap,
  ReactFlow,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type EdgeTypes,
  type NodeChange,
  type NodeTypes,
} from '@xyflow/react';
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import { addBlock, addLayer, connect, moveNodes, removeItems, toggleExpanded } from '../store/actions.ts';
import type { Point } from '../store/document.ts';
import { layerServices } from './catalogue.ts';
import { useAnalysis, useEditor, useEditorState } from './EditorContext.tsx';
import { LayerNode, type LayerFlowNode } from './LayerNode.tsx';
import { decodePaletteItem, PALETTE_MIME } from './Palette.tsx';
import { ShapeEdge, type ShapeFlowEdge } from './ShapeEdge.tsx';

const nodeTypes: NodeTypes = { layer: LayerNode };
const edgeTypes: EdgeTypes = { shape: ShapeEdge };
export const GRID = 20;

interface CanvasProps {
  snapToGrid: boolean;
  colorMode: 'light' | 'dark';
}

type Size = { width: number; height: number };

/**
 * The smallest canvas that shows the minimap: it covers 200x150 of the bottom-right corner,
 * where a fitted graph's last layers often are, so a canvas narrower than this (as in a
 * 1280x720 window) or shortened by a bottom panel leaves it out.
 */
const MINIMAP_MIN = { width: 900, height: 520 };

/** The network canvas: React Flow as a view of the store's graph. */
export function Canvas({ snapToGrid, colorMode }: CanvasProps) {
  const { store, notify } = useEditor();
  const flow = useReactFlow();
  const doc = useEditorState((s) => s.doc);
  const selection = useEditorState((s) => s.selection);
  const analysis = useAnalysis();
  // Measured sizes are view state: React Flow needs them back on every node it is given.
  const [sizes, setSizes] = useState<Record<string, Size>>({});
  const [refusal, setRefusal] = useState<string | null>(null);
  const refusalTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  // The minimap is shown where the canvas has room for it beside the network (not while a
  // tall bottom panel or a small window leaves the canvas small).
  const canvasRef = useRef<HTMLDivElement>(null);
  const [roomy, setRoomy] = useState(true);
  useEffect(() => {
    const el = canvasRef.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(([entry]) => {
      const { width, height } = entry.contentRect;
      setRoomy(width >= MINIMAP_MIN.width && height >= MINIMAP_MIN.height);
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  // A newly loaded document is shown whole; an empty one at 100 %. The choice is made for the
  // document as loaded: an empty one is reset at once, so a layer dropped right after New lands
  // where it was dropped, and the fit is skipped once the user has edited the loaded document.
  const loads = useEditorState((s) => s.loads);
  useEffect(() => {
    if (loads === 0) return;
    setSizes({});
    const loaded = store.getState().doc;
    if (!loaded.graph.nodes.length) {
      void flow.setViewport({ x: 0, y: 0, zoom: 1 });
      return;
    }
    // Wait for the new cards to be measured before fitting them.
    const timer = setTimeout(() => {
      if (store.getState().doc === loaded) void flow.fitView({ maxZoom: 1 });
    }, 60);
    return () => clearTimeout(timer);
  }, [loads, flow, store]);

  const onToggleExpanded = useCallback((id: string) => void store.dispatch(toggleExpanded, { id }), [store]);

  const nodes = useMemo<LayerFlowNode[]>(() => {
    const selected = new Set(selection);
    return doc.graph.nodes.map((node) => ({
      id: node.id,
      type: 'layer',
      position: doc.ui.positions[node.id] ?? { x: 0, y: 0 },
      selected: selected.has(node.id),
      measured: sizes[node.id],
      data: {
        node,
        def: layerServices.getLayer(node.type),
        info: analysis.nodes.get(node.id),
        expanded: doc.ui.expanded.includes(node.id),
        onToggleExpanded,
      },
    }));
  }, [doc, selection, sizes, analysis, onToggleExpanded]);

  const edges = useMemo<ShapeFlowEdge[]>(() => {
    const selected = new Set(selection);
    return doc.graph.edges.map((e) => ({
      id: e.id,
      type: 'shape',
      source: e.source,
      sourceHandle: e.sourcePort,
      target: e.target,
      targetHandle: e.targetPort,
      selected: selected.has(e.id),
      data: { value: analysis.edges.get(e.id), error: analysis.edgeErrors.get(e.id) },
    }));
  }, [doc.graph.edges, selection, analysis]);

  const applySelect = useCallback(
    (changes: (NodeChange<LayerFlowNode> | EdgeChange<ShapeFlowEdge>)[]) => {
      const next = new Set(store.getState().selection);
      let touched = false;
      for (const c of changes) {
        if (c.type !== 'select') continue;
        touched = true;
        if (c.selected) next.add(c.id);
        else next.delete(c.id);
      }
      if (touched) store.select([...next]);
    },
    [store],
  );

  const onNodesChange = useCallback(
    (changes: NodeChange<LayerFlowNode>[]) => {
      const moved: Record<string, Point> = {};
      const measured: Record<string, Size> = {};
      applySelect(changes);
      for (const c of changes) {
        if (c.type === 'position' && c.position) moved[c.id] = c.position;
        if (c.type === 'dimensions' && c.dimensions) measured[c.id] = c.dimensions;
      }
      if (Object.keys(moved).length) store.dispatch(moveNodes, { positions: moved });
      if (Object.keys(measured).length) setSizes((s) => ({ ...s, ...measured }));
    },
    [store, applySelect],
  );

  // Deletion arrives through onDelete, as one action.
  const onEdgesChange = useCallback((changes: EdgeChange<ShapeFlowEdge>[]) => applySelect(changes), [applySelect]);

  const refuse = useCallback(
    (message: string) => {
      setRefusal(message);
      notify(message);
      clearTimeout(refusalTimer.current);
      refusalTimer.current = setTimeout(() => setRefusal(null), 6000);
    },
    [notify],
  );

  const onConnect = useCallback(
    (c: Connection) => {
      if (!c.sourceHandle || !c.targetHandle) return;
      const result = store.dispatch(connect, { source: c.source, sourcePort: c.sourceHandle, target: c.target, targetPort: c.targetHandle });
      if (!result.ok) refuse(`Cannot connect: ${result.message}`);
      else setRefusal(null);
    },
    [store, refuse],
  );

  const onDrop = useCallback(
    (ev: DragEvent) => {
      const item = decodePaletteItem(ev.dataTransfer.getData(PALETTE_MIME));
      if (!item) return;
      ev.preventDefault();
      const p = flow.screenToFlowPosition({ x: ev.clientX, y: ev.clientY });
      const position = snapToGrid ? { x: Math.round(p.x / GRID) * GRID, y: Math.round(p.y / GRID) * GRID } : p;
      const result = item.kind === 'layer' ? store.dispatch(addLayer, { type: item.id, position }) : store.dispatch(addBlock, { template: item.id, position });
      if (!result.ok) notify(result.message);
    },
    [flow, store, notify, snapToGrid],
  );

  const onDragOver = useCallback((ev: DragEvent) => {
    if (!ev.dataTransfer.types.includes(PALETTE_MIME)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = 'copy';
  }, []);

  return (
    <div className="canvas" data-testid="canvas" ref={canvasRef} onDrop={onDrop} onDragOver={onDragOver}>
      <ReactFlow<LayerFlowNode, ShapeFlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        edgeTypes={edgeTypes}
        onNodesChange={onNodesChange}
        onEdgesChange={onEdgesChange}
        onNodeDragStop={() => store.commit()}
        onSelectionDragStop={() => store.commit()}
        onConnect={onConnect}
        onDelete={({ nodes: n, edges: e }) => {
          const ids = [...n.map((x) => x.id), ...e.map((x) => x.id)];
          if (ids.length) store.dispatch(removeItems, { ids });
        }}
        deleteKeyCode={['Delete', 'Backspace']}
        multiSelectionKeyCode={['Shift', 'Meta', 'Control']}
        selectionKeyCode="Shift"
        selectionOnDrag={false}
        snapToGrid={snapToGrid}
        snapGrid={[GRID, GRID]}
        colorMode={colorMode}
        minZoom={0.1}
        maxZoom={2.5}
        fitView
        fitViewOptions={{ maxZoom: 1 }}
        proOptions={{ hideAttribution: true }}
      >
        <Background variant={BackgroundVariant.Dots} gap={GRID} />
        {roomy && <MiniMap pannable zoomable ariaLabel="Minimap of the network" />}
        <Controls showInteractive={false} />
      </ReactFlow>
      {refusal && (
        <div className="canvas-refusal" role="alert" data-testid="connect-refused">
          {refusal}
        </div>
      )}
    </div>
  );
}
