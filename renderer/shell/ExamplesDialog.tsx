import { useEffect, useState } from 'react';
import type { ExampleInfo, HostApi } from '../../main/api/host-api.ts';

interface ExamplesDialogProps {
  host: HostApi;
  onOpen: (id: string) => void;
  onClose: () => void;
}

/** Lists the bundled example projects; choosing one opens it. */
export function ExamplesDialog({ host, onOpen, onClose }: ExamplesDialogProps) {
  const [examples, setExamples] = useState<ExampleInfo[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let live = true;
    host.listExamples().then(
      (list) => live && setExamples(list),
      (err: unknown) => live && setError(err instanceof Error ? err.message : String(err)),
    );
    return () => {
      live = false;
    };
  }, [host]);

  return (
    <div className="dialog-backdrop" onClick={onClose}>
      <div className="dialog" role="dialog" aria-label="Examples" data-testid="examples-dialog" onClick={(e) => e.stopPropagation()}>
        <h2>Examples</h2>
        {error && <p className="status-error">{error}</p>}
        {!error && examples === null && <p>Loading...</p>}
        {examples?.length === 0 && <p>No example projects are installed.</p>}
        <ul className="example-list">
          {examples?.map((e) => (
            <li key={e.id}>
              <button type="button" onClick={() => onOpen(e.id)}>
                <strong>{e.title}</strong>
                <span>{e.description}</span>
              </button>
            </li>
          ))}
        </ul>
        <button type="button" onClick={onClose}>
          Close
        </button>
      </div>
    </div>
  );
}
