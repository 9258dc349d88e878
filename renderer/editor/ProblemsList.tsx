import { useReactFlow } from '@xyflow/react';
import { useAnalysis, useEditor } from './EditorContext.tsx';

/** Everything wrong with the graph; clicking a problem selects and shows its layer. */
export function ProblemsList() {
  const { store } = useEditor();
  const { problems } = useAnalysis();
  const flow = useReactFlow();
  return (
    <section className="problems" data-testid="problems" aria-label="Problems">
      <h3 className="panel-title">Problems ({problems.length})</h3>
      {problems.length === 0 ? (
        <p className="panel-empty">No problems.</p>
      ) : (
        <ul>
          {problems.map((p, i) => (
            <li key={`${p.nodeId ?? p.edgeId ?? ''}:${i}`}>
              <button
                type="button"
                className="problem"
                data-testid="problem"
                onClick={() => {
                  const id = p.nodeId ?? p.edgeId;
                  if (!id) return;
                  store.select([id]);
                  if (p.nodeId) void flow.fitView({ nodes: [{ id: p.nodeId }], duration: 200, maxZoom: 1.2 });
                }}
              >
                {p.message}
              </button>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
