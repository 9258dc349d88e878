import type { Recovery } from './recovery.ts';

/** Offered at start-up when the last session ended with unsaved work. */
export function RecoveryDialog({ recovery, onRestore, onDiscard }: { recovery: Recovery; onRestore: () => void; onDiscard: () => void }) {
  const when = new Date(recovery.savedAt).toLocaleString();
  return (
    <div className="dialog-backdrop">
      <div className="dialog recovery-dialog" role="dialog" aria-label="Restore unsaved work" data-testid="recovery-dialog">
        <h2>Restore unsaved work?</h2>
        <p>
          APS Studio closed with unsaved changes to <strong>{recovery.fileName}</strong> ({recovery.doc.graph.nodes.length} layers, autosaved {when}).
        </p>
        <div className="dialog-actions">
          <button type="button" onClick={onDiscard} data-testid="recovery-discard">
            Discard
          </button>
          <button type="button" onClick={onRestore} data-testid="recovery-restore" autoFocus>
            Restore
          </button>
        </div>
      </div>
    </div>
  );
}
