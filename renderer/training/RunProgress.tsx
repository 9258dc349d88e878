import { formatEta, runFraction, type RunState } from './run-state.ts';

/** The progress bar with epoch, step, samples per second and time left. */
export function RunProgress({ run }: { run: RunState }) {
  const epochs = run.current?.training.epochs ?? 0;
  const p = run.progress;
  const fraction = run.phase === 'finished' && run.current?.status === 'completed' ? 1 : runFraction(p, epochs);
  return (
    <div className="run-progress" data-testid="run-progress" data-phase={run.phase}>
      <progress max={1} value={fraction} aria-label="Training progress" />
      <div className="run-progress-text">
        <span data-testid="run-phase">{phaseText(run)}</span>
        {p && (
          <>
            <span data-testid="run-epoch">
              epoch {p.epoch}/{epochs}
            </span>
            <span data-testid="run-step">
              step {p.step}/{p.stepsPerEpoch}
            </span>
            <span data-testid="run-speed">{Math.round(p.samplesPerSec).toLocaleString()} samples/s</span>
            {(run.phase === 'running' || run.phase === 'paused') && <span data-testid="run-eta">{formatEta(p.etaSec)} left</span>}
            <span>lr {+p.lr.toPrecision(3)}</span>
          </>
        )}
      </div>
    </div>
  );
}

function phaseText(run: RunState): string {
  switch (run.phase) {
    case 'idle':
      return 'Not started';
    case 'starting':
      return 'Preparing data and model…';
    case 'running':
      return 'Training';
    case 'paused':
      return 'Paused';
    case 'stopping':
      return 'Stopping…';
    case 'failed':
      return 'Failed';
    case 'finished':
      switch (run.current?.status) {
        case 'completed':
          return 'Finished';
        case 'early-stopped':
          return 'Stopped early';
        case 'diverged':
          return 'Diverged';
        default:
          return 'Stopped';
      }
  }
}
