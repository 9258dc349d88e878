import { ReactFlowProvider, useReactFlow } from '@xyflow/react';
import '@xyflow/react/dist/style.css';
import { useCallback, useMemo, useRef, useState } from 'react';
import { PalettePanel } from '../shell/PalettePanel.tsx';
import { addBlock, addLayer, autoLayout, copyClip, duplicate, group, paste, removeItems, ungroup, type Clip } from '../store/actions.ts';
import { findNode } from '../store/document.ts';
import type { PaletteItem } from './catalogue.ts';
import { Canvas, GRID } from './Canvas.tsx';
import { useEditor, useEditorState } from './EditorContext.tsx';
import { Inspector } from './Inspector.tsx';
import { Palette } from './Palette.tsx';
import { ProblemsList } from './ProblemsList.tsx';
import { useEditorShortcuts } from './useEditorShortcuts.ts';
import './editor.css';

export interface EditorProps {
  colorMode: 'light' | 'dark';
}

/** The editor: palette, canvas with its toolbar and problems, and the inspector. */
export function Editor(props: EditorProps) {
  return (
    <ReactFlowProvider>
      <EditorWorkspace {...props} />
    </ReactFlowProvider>
  );
}

function EditorWorkspace({ colorMode }: EditorProps) {
  const { store, notify } = useEditor();
  const flow = useReactFlow();
  const [snap, setSnap] = useState(true);
  const clipboard = useRef<Clip | null>(null);
  const canUndo = useEditorState((s) => s.past.length > 0);
  const canRedo = useEditorState((s) => s.future.length > 0);
  const selection = useEditorState((s) => s.selection);
  const graph = useEditorState((s) => s.doc.graph);
  const selectedNodes = selection.filter((id) => findNode(graph, id));
  const selectedBlock = selectedNodes.length === 1 && findNode(graph, selectedNodes[0])?.subgraph ? selectedNodes[0] : null;

  const report = useCallback((r: { ok: true } | { ok: false; message: string }) => !r.ok && notify(r.message), [notify]);

  const addAtCentre = useCallback(
    (item: PaletteItem) => {
      const el = document.querySelector('[data-testid="canvas"]')?.getBoundingClientRect();
      const centre = el ? flow.screenToFlowPosition({ x: el.left + el.width / 2, y: el.top + el.height / 2 }) : { x: 0, y: 0 };
      // Stagger repeated additions so they do not stack exactly.
      const n = store.getState().doc.graph.nodes.length % 5;
      const position = { x: Math.round(centre.x / GRID) * GRID + n * GRID, y: Math.round(centre.y / GRID) * GRID + n * GRID };
      report(item.kind === 'layer' ? store.dispatch(addLayer, { type: item.id, position }) : store.dispatch(addBlock, { template: item.id, position }));
    },
    [flow, store, report],
  );

  const handlers = useMemo(
    () => ({
      copy: () => {
        const clip = copyClip(store.getState().doc, store.getState().selection);
        if (clip) {
          clipboard.current = clip;
          notify(`Copied ${clip.nodes.length} layer${clip.nodes.length === 1 ? '' : 's'}`);
        }
      },
      cut: () => {
        const { doc, selection: sel } = store.getState();
        const clip = copyClip(doc, sel);
        if (!clip) return;
        clipboard.current = clip;
        report(store.dispatch(removeItems, { ids: sel }));
      },
      paste: () => {
        if (clipboard.current) report(store.dispatch(paste, { clip: clipboard.current }));
        else notify('The clipboard holds no layers.');
      },
      duplicate: () => report(store.dispatch(duplicate, { ids: store.getState().selection })),
      selectAll: () => store.select(store.getState().doc.graph.nodes.map((n) => n.id)),
      clearSelection: () => store.select([]),
      group: () => report(store.dispatch(group, { ids: store.getState().selection })),
      ungroup: () => {
        const block = store.getState().selection.find((id) => findNode(store.getState().doc.graph, id)?.subgraph);
        if (block) report(store.dispatch(ungroup, { id: block }));
        else notify('Select a block to ungroup.');
      },
      arrange: () => {
        report(store.dispatch(autoLayout, {}));
        requestAnimationFrame(() => void flow.fitView({ duration: 200, maxZoom: 1 }));
      },
      fit: () => void flow.fitView({ duration: 200, maxZoom: 1 }),
    }),
    [store, notify, report, flow],
  );
  useEditorShortcuts(store, handlers);

  const button = (label: string, testId: string, onClick: () => void, options: { disabled?: boolean; title?: string; pressed?: boolean } = {}) => (
    <button
      type="button"
      data-testid={testId}
      onClick={onClick}
      disabled={options.disabled}
      title={options.title}
      aria-pressed={options.pressed}
    >
      {label}
    </button>
  );

  return (
    <>
      <PalettePanel>
        <Palette onAdd={addAtCentre} />
      </PalettePanel>
      <main id="canvas-root" className="canvas-root" aria-label="Network canvas">
        <div className="editor-toolbar" role="toolbar" aria-label="Edit">
          {button('Undo', 'edit-undo', () => store.undo() ?? undefined, { disabled: !canUndo, title: 'Undo (Ctrl+Z)' })}
          {button('Redo', 'edit-redo', () => store.redo() ?? undefined, { disabled: !canRedo, title: 'Redo (Shift+Ctrl+Z)' })}
          <span className="toolbar-sep" />
          {button('Duplicate', 'edit-duplicate', handlers.duplicate, { disabled: selectedNodes.length === 0, title: 'Duplicate (Ctrl+D)' })}
          {button('Delete', 'edit-delete', () => report(store.dispatch(removeItems, { ids: selection })), { disabled: selection.length === 0, title: 'Delete (Del)' })}
          {button('Group', 'edit-group', handlers.group, { disabled: selectedNodes.length < 2, title: 'Group into a block (Ctrl+G)' })}
          {button('Ungroup', 'edit-ungroup', handlers.ungroup, { disabled: !selectedBlock, title: 'Ungroup (Shift+Ctrl+G)' })}
          <span className="toolbar-sep" />
          {button('Arrange', 'edit-arrange', handlers.arrange, { title: 'Arrange automatically, left to right (Shift+Ctrl+L)' })}
          {button('Fit', 'edit-fit', handlers.fit, { title: 'Zoom to fit (Shift+1)' })}
          {button('Snap', 'edit-snap', () => setSnap((s) => !s), { pressed: snap, title: 'Snap to grid' })}
        </div>
        <Canvas snapToGrid={snap} colorMode={colorMode} />
        <ProblemsList />
      </main>
      <aside className="panel panel-right" data-testid="inspector" aria-label="Inspector">
        <h2 className="panel-title">Inspector</h2>
        <Inspector />
      </aside>
    </>
  );
}
