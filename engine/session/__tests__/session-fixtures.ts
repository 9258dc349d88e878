/** A small model, dataset and event recorder shared by the session tests. */
import { defaultParams } from '../../graph/catalogue.ts';
import type { GraphEdge, GraphNode, ModelGraph } from '../../graph/types.ts';
import type { TrainingEvent } from '../protocol.ts';

export function node(id: string, type: string, params: Record<string, number> = {}): GraphNode {
  return { id, type, params: { ...defaultParams(type), ...params } };
}
export function edge(source: string, target: string, targetPort = 'x'): GraphEdge {
  return { id: `${source}->${target}.${targetPort}`, source, sourcePort: 'y', target, targetPort };
}

/** VectorInput(2) -> Linear(hidden) -> ReLU -> Linear(classes) -> cross-entropy. */
export function mlp(classes = 3, hidden = 16): ModelGraph {
  return {
    nodes: [node('input', 'VectorInput', { features: 2 }), node('fc1', 'Linear', { out_features: hidden }), node('act', 'ReLU'), node('fc2', 'Linear', { out_features: classes }), node('label', 'Target'), node('loss', 'CrossEntropyLoss')],
    edges: [edge('input', 'fc1'), edge('fc1', 'act'), edge('act', 'fc2'), edge('fc2', 'loss', 'prediction'), edge('label', 'loss', 'target')],
  };
}

export const blobs = { source: { kind: 'builtin' as const, id: 'blobs', options: { samples: 300 } }, split: { train: 0.7, val: 0.15, test: 0.15 } };

/** Collects events; `next(type, pred)` resolves with the first (past or future) match. */
export function recorder() {
  const events: TrainingEvent[] = [];
  const waiters: { pred: (e: TrainingEvent) => boolean; resolve: (e: TrainingEvent) => void }[] = [];
  const emit = (e: TrainingEvent) => {
    events.push(e);
    for (const w of [...waiters]) {
      if (!w.pred(e)) continue;
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(e);
    }
  };
  const next = <T extends TrainingEvent['type']>(type: T, pred: (e: Extract<TrainingEvent, { type: T }>) => boolean = () => true) =>
    new Promise<Extract<TrainingEvent, { type: T }>>((resolve) => {
      const match = (e: TrainingEvent) => e.type === type && pred(e as Extract<TrainingEvent, { type: T }>);
      const found = events.find(match);
      if (found) resolve(found as Extract<TrainingEvent, { type: T }>);
      else waiters.push({ pred: match, resolve: resolve as (e: TrainingEvent) => void });
    });
  return { events, emit, next };
}
