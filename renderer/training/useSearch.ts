import { useCallback, useEffect, useMemo, useState } from 'react';
import type { DataPayload } from '../../engine/data/prepare.ts';
import type { SearchOptions, SearchSpace, TrialResult } from '../../engine/train/search.ts';
import type { DataSource } from '../../engine/train/settings.ts';
import type { HostApi } from '../../main/api/host-api.ts';
import { setParam } from '../store/actions.ts';
import type { EditorStore } from '../store/store.ts';
import { dataSettingsOf, setTrainingSettings, trainingSettingsOf } from '../store/training-actions.ts';
import { nextId } from './useTrainingSession.ts';

export interface SearchState {
  phase: 'idle' | 'running' | 'stopping' | 'finished' | 'failed';
  searchId: string | null;
  done: number;
  total: number;
  /** Trials so far in the order they ran; ranked once the search finishes. */
  results: TrialResult[];
  error: string | null;
}

export interface SearchController {
  state: SearchState;
  start(space: SearchSpace, options: SearchOptions): void;
  stop(): void;
  /** Puts a trial's settings into the project (one undo entry per changed setting). */
  apply(result: TrialResult): string[];
}

/** Runs a hyperparameter search in the engine worker and applies a chosen trial to the project. */
export function useSearch(host: HostApi, store: EditorStore, payloadFor: (source: DataSource) => DataPayload | undefined): SearchController {
  const [state, setState] = useState<SearchState>({ phase: 'idle', searchId: null, done: 0, total: 0, results: [], error: null });

  useEffect(
    () =>
      host.onEngineEvent((event) => {
        switch (event.type) {
          case 'search-started':
            setState((s) => (s.searchId === event.searchId ? { ...s, total: event.total } : s));
            return;
          case 'search-trial':
            setState((s) => (s.searchId === event.searchId ? { ...s, done: event.done, total: event.total, results: [...s.results.filter((r) => r.trial !== event.result.trial), event.result] } : s));
            return;
          case 'search-finished':
            setState((s) => (s.searchId === event.searchId ? { ...s, phase: 'finished', results: event.results } : s));
            return;
          case 'search-failed':
            setState((s) => (s.searchId === event.searchId ? { ...s, phase: 'failed', error: event.reason } : s));
            return;
          case 'engine-error':
            setState((s) => (s.phase === 'running' || s.phase === 'stopping' ? { ...s, phase: 'failed', error: event.message } : s));
        }
      }),
    [host],
  );

  const start = useCallback(
    (space: SearchSpace, options: SearchOptions) => {
      const doc = store.getState().doc;
      const searchId = nextId('search');
      setState({ phase: 'running', searchId, done: 0, total: 0, results: [], error: null });
      const data = dataSettingsOf(doc);
      const payload = payloadFor(data.source);
      host.postToEngine({ type: 'search-start', searchId, graph: doc.graph, data, training: trainingSettingsOf(doc), space, options, ...(payload ? { payload } : {}) });
    },
    [host, store, payloadFor],
  );

  const stop = useCallback(() => {
    setState((s) => {
      if (s.searchId && s.phase === 'running') host.postToEngine({ type: 'search-stop', searchId: s.searchId });
      return s.phase === 'running' ? { ...s, phase: 'stopping' } : s;
    });
  }, [host]);

  const apply = useCallback(
    (result: TrialResult): string[] => {
      const problems: string[] = [];
      const training = trainingSettingsOf(store.getState().doc);
      const c = result.config;
      const next = { ...training, batchSize: c.batchSize, optimizer: { ...training.optimizer, lr: c.lr, type: c.optimizer } };
      const r = store.dispatch(setTrainingSettings, { settings: next, what: 'settings from search' });
      if (!r.ok && r.message !== 'The training settings are unchanged.') problems.push(r.message);
      for (const [key, value] of Object.entries(c.graphParams)) {
        const dot = key.lastIndexOf('.');
        const p = store.dispatch(setParam, { nodeId: key.slice(0, dot), name: key.slice(dot + 1), value });
        if (!p.ok && !p.message.includes('is already')) problems.push(p.message);
      }
      return problems;
    },
    [store],
  );

  return useMemo(() => ({ state, start, stop, apply }), [state, start, stop, apply]);
}
