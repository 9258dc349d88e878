import type { MenuCommand, RecentFile } from '../../main/api/host-api.ts';
import type { Theme } from './useTheme.ts';

interface ToolbarProps {
  projectName: string;
  dirty: boolean;
  onCommand: (command: MenuCommand) => void;
  recent?: RecentFile[];
  onOpenRecent?: (id: string) => void;
  theme?: Theme;
  onToggleTheme?: () => void;
}

/** Top bar: file commands (the same ones the desktop menu sends), recent files, theme and the project name. */
export function Toolbar({ projectName, dirty, onCommand, recent = [], onOpenRecent, theme, onToggleTheme }: ToolbarProps) {
  const button = (label: string, command: MenuCommand, title?: string) => (
    <button type="button" onClick={() => onCommand(command)} data-testid={`toolbar-${command}`} title={title}>
      {label}
    </button>
  );
  return (
    <header className="toolbar" data-testid="toolbar">
      <strong className="app-name">APS Studio</strong>
      {button('New', 'new')}
      {button('Open', 'open', 'Open (Ctrl+O)')}
      {onOpenRecent && (
        <select
          aria-label="Open recent"
          data-testid="toolbar-recent"
          value=""
          disabled={recent.length === 0}
          onChange={(e) => e.target.value && onOpenRecent(e.target.value)}
        >
          <option value="">{recent.length ? 'Open Recent…' : 'No recent files'}</option>
          {recent.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name}
            </option>
          ))}
        </select>
      )}
      {button('Save', 'save', 'Save (Ctrl+S)')}
      {button('Save As', 'save-as', 'Save As (Shift+Ctrl+S)')}
      {button('Import Layers', 'import-layers', 'Import trained layers (an encoder) from another project')}
      {button('Examples', 'examples')}
      {onToggleTheme && (
        <button type="button" data-testid="toolbar-theme" onClick={onToggleTheme} aria-label={`Switch to ${theme === 'dark' ? 'light' : 'dark'} theme`}>
          {theme === 'dark' ? 'Light theme' : 'Dark theme'}
        </button>
      )}
      <span className="project-name" data-testid="project-name">
        {projectName}
        {dirty ? ' •' : ''}
      </span>
    </header>
  );
}
