import type { MenuCommand } from '../../main/api/host-api.ts';

interface ToolbarProps {
  projectName: string;
  dirty: boolean;
  onCommand: (command: MenuCommand) => void;
}

/** Top bar: file commands (the same ones the desktop menu sends) and the project name. */
export function Toolbar({ projectName, dirty, onCommand }: ToolbarProps) {
  const button = (label: string, command: MenuCommand) => (
    <button type="button" onClick={() => onCommand(command)} data-testid={`toolbar-${command}`}>
      {label}
    </button>
  );
  return (
    <header className="toolbar" data-testid="toolbar">
      <strong className="app-name">APS Studio</strong>
      {button('New', 'new')}
      {button('Open', 'open')}
      {button('Save', 'save')}
      {button('Examples', 'examples')}
      <span className="project-name" data-testid="project-name">
        {projectName}
        {dirty ? ' •' : ''}
      </span>
    </header>
  );
}
