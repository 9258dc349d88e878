import { useEditor, useEditorState } from '../editor/EditorContext.tsx';
import { setTrainingSettings, trainingSettingsOf } from '../store/training-actions.ts';
import { RunBanner } from './RunBanner.tsx';
import { RunProgress } from './RunProgress.tsx';
import type { TrainingSession } from './useTrainingSession.ts';
import { TrainingCurves } from './TrainingCurves.tsx';
import { TrainingSettingsForm } from './TrainingSettingsForm.tsx';

/** Settings, run controls, progress, the banner and live curves. */
export function TrainingPanel({ session, backends }: { session: TrainingSession; backends: string[] }) {
  const { store, notify } = useEditor();
  const doc = useEditorState((s) => s.doc);
  const settings = trainingSettingsOf(doc);
  const { run } = session;
  const live = run.phase === 'running' || run.phase === 'paused' || run.phase === 'starting' || run.phase === 'stopping';
  const button = (label: string, testId: string, onClick: () => void, enabled: boolean, primary = false) => (
    <button type="button" className={primary ? 'primary' : undefined} data-testid={testId} onClick={onClick} disabled={!enabled}>
      {label}
    </button>
  );
  return (
    <div className="training-panel" data-testid="training-panel">
      <div className="training-side">
        <TrainingSettingsForm
          settings={settings}
          disabled={live}
          backends={backends}
          choosable={session.choosableBackends}
          backend={session.backend}
          onBackend={session.setBackend}
          onChange={(next, what) => {
            const r = store.dispatch(setTrainingSettings, { settings: next, what });
            if (!r.ok) notify(r.message);
          }}
        />
      </div>
      <div className="training-main">
        <div className="run-controls" role="toolbar" aria-label="Training">
          {button('Start', 'train-start', session.start, !live, true)}
          {run.phase === 'paused' ? button('Resume', 'train-resume', session.resume, true) : button('Pause', 'train-pause', session.pause, run.phase === 'running')}
          {button('Stop', 'train-stop', session.stop, run.phase === 'running' || run.phase === 'paused')}
        </div>
        <RunProgress run={run} />
        {(run.phase === 'running' || run.phase === 'paused') && session.runData?.backend && (
          <p className="panel-empty" data-testid="train-backend-used">
            Computing on {session.runData.backend}
          </p>
        )}
        {run.banner && <RunBanner banner={run.banner} onDismiss={session.dismissBanner} />}
        <TrainingCurves run={run} />
      </div>
    </div>
  );
}
