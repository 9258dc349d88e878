import { useCallback, useEffect, useMemo, useState } from 'react';
import type { HostApi, MenuCommand } from '../main/api/host-api.ts';
import { layerServices } from './editor/catalogue.ts';
import { Editor } from './editor/Editor.tsx';
import { EditorProvider, type EditorContextValue } from './editor/EditorContext.tsx';
import { ImportLayersDialog } from './editor/ImportLayersDialog.tsx';
import { RecoveryDialog } from './editor/RecoveryDialog.tsx';
import { useProject } from './editor/useProject.ts';
import { ExamplesDialog } from './shell/ExamplesDialog.tsx';
import { StatusBar } from './shell/StatusBar.tsx';
import { Toolbar } from './shell/Toolbar.tsx';
import { useEngine } from './shell/useEngine.ts';
import { useTheme } from './shell/useTheme.ts';
import { createEditorStore } from './store/store.ts';
import { TrainingWorkbench } from './training/TrainingWorkbench.tsx';

/**
 * The application shell: toolbar, the editor (palette, canvas, inspector) and the status
 * bar. File commands arrive from the toolbar or the host's menu and go to the project.
 */
export function App({ host }: { host: HostApi }) {
  const engine = useEngine(host);
  const store = useMemo(() => createEditorStore(layerServices), []);
  const [message, setMessage] = useState('');
  const [showExamples, setShowExamples] = useState(false);
  const [showImport, setShowImport] = useState(false);
  const [exportRequests, setExportRequests] = useState(0);
  const { theme, toggleTheme } = useTheme();
  const project = useProject(host, store, setMessage);
  const { runCommand: runProjectCommand } = project;

  const runCommand = useCallback(
    (command: MenuCommand) => {
      if (command === 'examples') setShowExamples(true);
      else if (command === 'import-layers') setShowImport(true);
      else if (command === 'export-weights') setExportRequests((n) => n + 1);
      else runProjectCommand(command);
    },
    [runProjectCommand],
  );

  useEffect(() => host.onMenuCommand(runCommand), [host, runCommand]);

  const editor = useMemo<EditorContextValue>(() => ({ store, host, notify: setMessage }), [store, host]);

  return (
    <EditorProvider value={editor}>
      <div className="app-shell with-workbench">
        <Toolbar
          projectName={project.fileName}
          dirty={project.dirty}
          onCommand={runCommand}
          recent={project.recent}
          onOpenRecent={project.openRecent}
          theme={theme}
          onToggleTheme={toggleTheme}
        />
        <div className="workspace">
          <Editor colorMode={theme} />
        </div>
        <TrainingWorkbench host={host} store={store} project={project} backends={engine.status.state === 'ready' ? engine.status.backends : []} exportRequests={exportRequests} />
        <StatusBar engine={engine.status} onRestartEngine={engine.restart} message={message} />
        {showExamples && (
          <ExamplesDialog
            host={host}
            onOpen={(id) => {
              setShowExamples(false);
              project.openExample(id);
            }}
            onClose={() => setShowExamples(false)}
          />
        )}
        {showImport && (
          <ImportLayersDialog
            host={host}
            store={store}
            pretrained={() => project.getExtras().pretrained}
            setPretrained={(pretrained) => project.setExtras({ pretrained })}
            notify={setMessage}
            onClose={() => setShowImport(false)}
          />
        )}
        {project.recovery && <RecoveryDialog recovery={project.recovery} onRestore={project.restoreRecovery} onDiscard={project.discardRecovery} />}
      </div>
    </EditorProvider>
  );
}
