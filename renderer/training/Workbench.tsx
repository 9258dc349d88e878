import type { ReactNode } from 'react';

export type WorkbenchTab = 'data' | 'training' | 'results' | 'inspect' | 'export' | 'search' | 'mode';

export const WORKBENCH_TABS: { id: WorkbenchTab; label: string }[] = [
  { id: 'data', label: 'Data' },
  { id: 'training', label: 'Training' },
  { id: 'results', label: 'Results' },
  { id: 'inspect', label: 'Inspect' },
  { id: 'export', label: 'Export' },
  { id: 'search', label: 'Search' },
  { id: 'mode', label: 'Mode' },
];

/**
 * The tabbed area under the canvas: Data, Training, Results, Inspect, Export and Search.
 * It starts folded to its tab strip, so the canvas has the room while a network is drawn;
 * choosing a tab opens it.
 */
export function Workbench({
  tab,
  onTab,
  open,
  onOpen,
  panels,
}: {
  tab: WorkbenchTab;
  onTab: (tab: WorkbenchTab) => void;
  open: boolean;
  onOpen: (open: boolean) => void;
  panels: Record<Exclude<WorkbenchTab, 'mode'>, () => ReactNode> & { mode?: () => ReactNode };
}) {
  const collapsed = !open;
  // The Mode tab is there only for projects with a course mode.
  const shown = panels[tab] ? tab : 'training';
  return (
    <section className={collapsed ? 'workbench collapsed' : 'workbench'} data-testid="workbench" aria-label="Training and inspection">
      <div className="workbench-tabs" role="tablist">
        {WORKBENCH_TABS.filter((t) => panels[t.id]).map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={open && shown === t.id}
            data-testid={`tab-${t.id}`}
            onClick={() => {
              onTab(t.id);
              onOpen(true);
            }}
          >
            {t.label}
          </button>
        ))}
        <button type="button" className="workbench-toggle" data-testid="workbench-toggle" onClick={() => onOpen(collapsed)} aria-expanded={!collapsed} title={collapsed ? 'Show the panel' : 'Hide the panel'}>
          {collapsed ? '▴' : '▾'}
        </button>
      </div>
      {!collapsed && (
        <div className="workbench-body" role="tabpanel" data-testid={`panel-${shown}`}>
          {panels[shown]!()}
        </div>
      )}
    </section>
  );
}
