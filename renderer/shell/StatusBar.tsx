import type { EngineStatus } from './useEngine.ts';

interface StatusBarProps {
  engine: EngineStatus;
  onRestartEngine: () => void;
  /** Last file operation outcome or problem, shown on the left. */
  message: string;
}

/** Bottom bar: the last file message and the engine's version, backends and errors. */
export function StatusBar({ engine, onRestartEngine, message }: StatusBarProps) {
  return (
    <footer className="status-bar" data-testid="status-bar">
      <span className="status-message" data-testid="status-message">{message}</span>
      <EngineState engine={engine} onRestart={onRestartEngine} />
    </footer>
  );
}

function EngineState({ engine, onRestart }: { engine: EngineStatus; onRestart: () => void }) {
  switch (engine.state) {
    case 'starting':
      return <span data-testid="engine-status">Engine starting...</span>;
    case 'ready':
      return (
        <span data-testid="engine-status">
          Engine <span data-testid="engine-version">{engine.version}</span>
          {' · backends: '}
          <span data-testid="engine-backends">{engine.backends.length ? engine.backends.join(', ') : 'none registered'}</span>
        </span>
      );
    case 'failed':
      return (
        <span data-testid="engine-status" className="status-error" role="alert">
          <span data-testid="engine-error">{engine.message}</span>{' '}
          <button type="button" onClick={onRestart}>
            Restart engine
          </button>
        </span>
      );
  }
}
