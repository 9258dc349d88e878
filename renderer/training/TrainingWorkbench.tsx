import { useEffect, useMemo, useRef, useState } from 'react';
import type { HostApi } from '../../main/api/host-api.ts';
import '../charts/charts.css';
import { InspectPanel, type InspectApi } from '../inspect/InspectPanel.tsx';
import { ModePanel } from '../modes/ModePanel.tsx';
import { useModeSession } from '../modes/useModeSession.ts';
import type { ProjectExtras } from '../store/project-bytes.ts';
import { useEditor } from '../editor/EditorContext.tsx';
import type { EditorStore } from '../store/store.ts';
import { DataPanel } from './DataPanel.tsx';
import { ExportPanel } from './ExportPanel.tsx';
import { ResultsPanel } from './ResultsPanel.tsx';
import { SearchPanel } from './SearchPanel.tsx';
import { useSearch } from './useSearch.ts';
import { TrainingPanel } from './TrainingPanel.tsx';
import { useTrainingSession, type ProjectWeightsLink } from './useTrainingSession.ts';
import { Workbench, type WorkbenchTab } from './Workbench.tsx';
import './training.css';

export interface TrainingWorkbenchProps {
  host: HostApi;
  store: EditorStore;
  /** The open project's extras (trained weights, run history). */
  project: { fileName: string; getExtras: () => ProjectExtras; setExtras: (more: ProjectExtras) => void };
  backends: string[];
  /** Increases each time the user asks to export weights (menu or shortcut). */
  exportRequests: number;
}

/** The Data, Training, Results, Inspect, Export and Search panels under the canvas. */
export function TrainingWorkbench({ host, store, project, backends, exportRequests }: TrainingWorkbenchProps) {
  const { notify } = useEditor();
  const [tab, setTab] = useState<WorkbenchTab>('training');
  const [open, setOpen] = useState(false);
  const { getExtras, setExtras } = project;
  const fileName = useRef(project.fileName);
  fileName.current = project.fileName;
  const weightsLink = useMemo<ProjectWeightsLink>(
    () => ({
      weights: () => getExtras().weights ?? null,
      setWeights: (weights) => setExtras({ weights }),
      pretrained: () => getExtras().pretrained ?? null,
      history: () => getExtras().history ?? null,
      setHistory: (history) => setExtras({ history }),
      name: () => fileName.current,
    }),
    [getExtras, setExtras],
  );
  const session = useTrainingSession(host, store, weightsLink, backends.length > 0, notify);
  const search = useSearch(host, store, session.payloadFor);
  const modes = useModeSession(host, store, session.payloadFor, session.adoptWeights);
  // A project with a course mode opens on its Mode panel.
  const modeKind = modes.mode?.kind;
  useEffect(() => {
    if (!modeKind) return;
    setTab('mode');
    setOpen(true);
  }, [modeKind]);

  useEffect(() => {
    if (exportRequests === 0) return;
    setTab('export');
    setOpen(true);
  }, [exportRequests]);

  const phase = session.run.phase;
  const liveRun = phase === 'running' || phase === 'paused' || phase === 'starting' || phase === 'stopping';
  const inspectApi: InspectApi = {
    inspection: session.inspection,
    ready: session.canInspect,
    notReady:
      session.savedModel.status === 'failed'
        ? `${session.savedModel.error ?? 'Could not load the saved weights.'} Train the model (or pause a run) to look inside it.`
        : liveRun
          ? 'The model is training: pause the run to look inside it.'
          : session.hasWeights
            ? "Loading the project's trained weights into the engine…"
            : 'Train the model, or pause a run, to look inside it.',
    inspect: session.inspect,
    classNames: session.classNames,
    inputShape: session.runData?.inputShape ?? null,
    isImage: session.runData?.isImage ?? false,
    saved: {
      canLoad: session.hasWeights && !session.canInspect && session.savedModel.status === 'idle' && !liveRun,
      failed: session.savedModel.status === 'failed',
      load: session.loadSavedModel,
    },
  };

  return (
    <Workbench
      tab={tab}
      onTab={setTab}
      open={open}
      onOpen={setOpen}
      panels={{
        data: () => <DataPanel session={session} />,
        training: () => <TrainingPanel session={session} backends={backends} />,
        results: () => <ResultsPanel session={session} />,
        inspect: () => <InspectPanel api={inspectApi} />,
        export: () => <ExportPanel session={session} />,
        search: () => <SearchPanel search={search} />,
        ...(modes.mode ? { mode: () => <ModePanel session={modes} /> } : {}),
      }}
    />
  );
}
