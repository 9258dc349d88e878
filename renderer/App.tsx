import { useCallback, useEffect, useState } from 'react';
import type { HostApi, MenuCommand, ProjectFile } from '../main/api/host-api.ts';
import { ExamplesDialog } from './shell/ExamplesDialog.tsx';
import { PalettePanel } from './shell/PalettePanel.tsx';
import { StatusBar } from './shell/StatusBar.tsx';
import { Toolbar } from './shell/Toolbar.tsx';
import { useEngine } from './shell/useEngine.ts';

interface OpenProject {
  name: string;
  /** The project file's bytes as opened; null for a new, never-saved project. */
  bytes: Uint8Array | null;
}

const NEW_PROJECT: OpenProject = { name: 'Untitled.aps', bytes: null };

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The application shell: toolbar, palette panel, canvas area, inspector panel and
 * status bar, plus the file commands that do not depend on the editor's contents.
 */
export function App({ host }: { host: HostApi }) {
  const engine = useEngine(host);
  const [project, setProject] = useState<OpenProject>(NEW_PROJECT);
  // Unsaved-changes tracking comes from the editor's store; the shell itself never edits a project.
  const dirty = false;
  const [message, setMessage] = useState('');
  const [showExamples, setShowExamples] = useState(false);

  const opened = useCallback((file: ProjectFile) => {
    setProject({ name: file.name, bytes: file.bytes });
    setMessage(`Opened ${file.name}`);
  }, []);

  const runCommand = useCallback(
    (command: MenuCommand) => {
      switch (command) {
        case 'new':
          setProject(NEW_PROJECT);
          setMessage('New project');
          return;
        case 'open':
          host.openProject().then((file) => file && opened(file), (err: unknown) => setMessage(`Could not open: ${errorText(err)}`));
          return;
        case 'save':
        case 'save-as':
          if (!project.bytes) {
            setMessage('This project has no content to save yet.');
            return;
          }
          host.saveProject({ name: project.name, bytes: project.bytes, saveAs: command === 'save-as' }).then(
            (saved) => {
              if (!saved) return;
              setProject((p) => ({ ...p, name: saved.name }));
              setMessage(`Saved ${saved.name}`);
            },
            (err: unknown) => setMessage(`Could not save: ${errorText(err)}`),
          );
          return;
        case 'examples':
          setShowExamples(true);
          return;
        case 'export-weights':
          setMessage('There are no trained weights to export yet.');
          return;
        case 'undo':
        case 'redo':
          // Undo history belongs to the editor, which subscribes to these commands itself.
          return;
      }
    },
    [host, opened, project],
  );

  useEffect(() => host.onMenuCommand(runCommand), [host, runCommand]);
  useEffect(() => host.onProjectOpened(opened), [host, opened]);
  useEffect(() => host.setTitle(project.name, dirty), [host, project.name, dirty]);

  const openExample = (id: string): void => {
    setShowExamples(false);
    host.openExample(id).then(opened, (err: unknown) => setMessage(`Could not open the example: ${errorText(err)}`));
  };

  return (
    <div className="app-shell">
      <Toolbar projectName={project.name} dirty={dirty} onCommand={runCommand} />
      <div className="workspace">
        <PalettePanel />
        <main id="canvas-root" className="canvas-root" aria-label="Network canvas" />
        <aside className="panel panel-right" data-testid="inspector" aria-label="Inspector">
          <h2 className="panel-title">Inspector</h2>
          <p className="panel-empty">Select a layer to see its properties.</p>
        </aside>
      </div>
      <StatusBar engine={engine.status} onRestartEngine={engine.restart} message={message} />
      {showExamples && <ExamplesDialog host={host} onOpen={openExample} onClose={() => setShowExamples(false)} />}
    </div>
  );
}
