import type { ExportFormat, TrainingSession } from './useTrainingSession.ts';

const FORMATS: { format: ExportFormat; title: string; description: string }[] = [
  { format: 'safetensors', title: 'safetensors', description: 'The trained weights under PyTorch state_dict names, for torch.load_state_dict or any safetensors reader.' },
  { format: 'onnx', title: 'ONNX (opset 17)', description: 'The model and its weights in one file, for ONNX Runtime and other inference engines.' },
  { format: 'pytorch', title: 'PyTorch code', description: 'model.py and train.py (zipped) that rebuild this network and its training in PyTorch.' },
];

/** Export Weights: the bytes come from the engine worker and are saved through the host. */
export function ExportPanel({ session }: { session: TrainingSession }) {
  const { exportState } = session;
  return (
    <div className="export-panel" data-testid="export-panel">
      {!session.hasWeights && <p className="panel-empty">Train the model first: there are no trained weights to export yet. (PyTorch code can be exported at any time.)</p>}
      <div className="export-options">
        {FORMATS.map((f) => (
          <div key={f.format} className="export-option">
            <strong>{f.title}</strong>
            <p>{f.description}</p>
            <button
              type="button"
              className="primary"
              data-testid={`export-${f.format}`}
              disabled={exportState.busy !== null || (!session.hasWeights && f.format !== 'pytorch')}
              onClick={() => session.exportWeights(f.format)}
            >
              {exportState.busy === f.format ? 'Exporting…' : `Export ${f.title}`}
            </button>
          </div>
        ))}
      </div>
      {exportState.message && (
        <p className={exportState.failed ? 'status-error' : undefined} role="status" data-testid="export-message">
          {exportState.message}
        </p>
      )}
    </div>
  );
}
