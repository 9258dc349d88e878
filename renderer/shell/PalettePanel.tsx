import type { ReactNode } from 'react';

/**
 * The left panel that holds the layer palette. The palette itself is generated
 * from the engine's layer catalogue by the editor; until it is mounted the panel
 * says so rather than listing invented layers.
 */
export function PalettePanel({ children }: { children?: ReactNode }) {
  return (
    <aside className="panel panel-left" data-testid="palette" aria-label="Layer palette">
      <h2 className="panel-title">Layers</h2>
      {children ?? <p className="panel-empty">No layers available yet.</p>}
    </aside>
  );
}
