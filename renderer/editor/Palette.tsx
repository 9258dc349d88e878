import { useMemo, useState, type DragEvent, type KeyboardEvent } from 'react';
import { paletteSections, type PaletteItem } from './catalogue.ts';

/** The drag payload type for palette items dropped on the canvas. */
export const PALETTE_MIME = 'application/x-aps-palette-item';

export function encodePaletteItem(item: Pick<PaletteItem, 'kind' | 'id'>): string {
  return JSON.stringify({ kind: item.kind, id: item.id });
}

export function decodePaletteItem(text: string): Pick<PaletteItem, 'kind' | 'id'> | null {
  try {
    const v = JSON.parse(text) as { kind?: unknown; id?: unknown };
    if ((v.kind === 'layer' || v.kind === 'block') && typeof v.id === 'string') return { kind: v.kind, id: v.id };
  } catch {
    // Not one of ours: ignore the drop.
  }
  return null;
}

interface PaletteProps {
  /** Adds the item in the middle of the visible canvas (double-click or Enter). */
  onAdd: (item: PaletteItem) => void;
}

/** The layer palette: the catalogue's categories and the ready-made blocks, with a search box. */
export function Palette({ onAdd }: PaletteProps) {
  const [query, setQuery] = useState('');
  const sections = useMemo(() => paletteSections(), []);
  const q = query.trim().toLowerCase();
  const visible = sections
    .map((s) => ({ ...s, items: s.items.filter((i) => !q || `${i.name} ${i.id} ${i.description} ${s.title}`.toLowerCase().includes(q)) }))
    .filter((s) => s.items.length > 0);

  const onDragStart = (ev: DragEvent, item: PaletteItem): void => {
    ev.dataTransfer.setData(PALETTE_MIME, encodePaletteItem(item));
    ev.dataTransfer.effectAllowed = 'copy';
  };
  const onKeyDown = (ev: KeyboardEvent, item: PaletteItem): void => {
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onAdd(item);
    }
  };

  return (
    <div className="palette">
      <input
        type="search"
        className="palette-search"
        placeholder="Search layers"
        aria-label="Search layers"
        data-testid="palette-search"
        value={query}
        onChange={(e) => setQuery(e.target.value)}
      />
      {visible.length === 0 && <p className="panel-empty">{sections.length ? `No layer matches "${query}".` : 'The layer catalogue is empty.'}</p>}
      {visible.map((section) => (
        <section key={section.title} className="palette-section" aria-label={section.title}>
          <h3 className="palette-category">{section.title}</h3>
          <ul className="palette-list">
            {section.items.map((item) => (
              <li
                key={`${item.kind}:${item.id}`}
                className="palette-item"
                tabIndex={0}
                draggable
                role="button"
                aria-label={`${item.name}: ${item.description}`}
                data-testid={`palette-item-${item.id}`}
                title={`${item.description}\nDrag onto the canvas, double-click or press Enter to add.`}
                onDragStart={(e) => onDragStart(e, item)}
                onDoubleClick={() => onAdd(item)}
                onKeyDown={(e) => onKeyDown(e, item)}
              >
                <span className="palette-item-name">{item.name}</span>
                <span className="palette-item-description">{item.description}</span>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}
