import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { DataPayload } from '../../engine/data/prepare.ts';
import type { ModeEvent, ModeSpec, ModeView, ModeViewQuery } from '../../engine/session/protocol.ts';
import type { DataSource } from '../../engine/train/settings.ts';
import type { NamedValues } from '../../engine/train/trainer.ts';
import type { HostApi } from '../../main/api/host-api.ts';
import type { EditorStore } from '../store/store.ts';
import { dataSettingsOf, trainingSettingsOf } from '../store/training-actions.ts';
import { initialModeState, modeReducer, projectMode, type ModeRunState } from './mode-state.ts';

export interface ModeSession {
  /** The open project's course mode (null: the project trains with the ordinary loop). */
  mode: Exclude<ModeSpec, { kind: 'trainer' }> | null;
  state: ModeRunState;
  /** A fresh run of the project's epochs (`steps` to train only that many steps). */
  start(steps?: number): void;
  /** More steps for the current run, or a fresh run of that many steps when there is none. */
  step(steps: number): void;
  stop(): void;
  /** Asks the engine for one of the run's views. */
  view(query: ModeViewQuery): Promise<ModeView>;
}

let counter = 0;
function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

const MODE_EVENTS = new Set<string>(['mode-started', 'mode-progress', 'mode-epoch', 'mode-state', 'mode-failed']);

/**
 * The renderer's side of a course-mode run: it sends mode requests to the engine worker
 * through the host and keeps what the worker's events say. Nothing trains here.
 */
export function useModeSession(
  host: HostApi,
  store: EditorStore,
  payloadFor?: (source: DataSource) => DataPayload | undefined,
  /** Receives the trained weights of the project's graph each time a run completes or is stopped (not when it diverged). */
  onWeights?: (tensors: NamedValues[], runId: string) => void,
): ModeSession {
  const [state, dispatch] = useReducer(modeReducer, initialModeState);
  const [mode, setMode] = useState(() => projectMode(store.getState().doc.training));
  const pending = useRef(new Map<string, { resolve: (v: ModeView) => void; reject: (e: Error) => void }>());
  const runRef = useRef<{ id: string | null; phase: ModeRunState['phase'] }>({ id: null, phase: 'none' });
  const onWeightsRef = useRef(onWeights);
  onWeightsRef.current = onWeights;
  runRef.current = { id: state.runId, phase: state.phase };

  // The mode follows the project; a project that opens ends the old run's views.
  useEffect(() => {
    let loads = store.getState().loads;
    return store.subscribe(() => {
      const s = store.getState();
      setMode((m) => {
        const next = projectMode(s.doc.training);
        return JSON.stringify(next) === JSON.stringify(m) ? m : next;
      });
      if (s.loads !== loads) {
        loads = s.loads;
        const id = runRef.current.id;
        if (id && runRef.current.phase === 'running') host.postToEngine({ type: 'mode-stop', runId: id });
        dispatch({ kind: 'reset' });
      }
    });
  }, [store, host]);

  useEffect(
    () =>
      host.onEngineEvent((event) => {
        if (MODE_EVENTS.has(event.type)) {
          dispatch({ kind: 'event', event: event as ModeEvent });
          if (event.type === 'mode-state' && event.state === 'idle' && (event.status === 'completed' || event.status === 'stopped') && event.runId === runRef.current.id && onWeightsRef.current) {
            const requestId = nextId('mw');
            const keep = onWeightsRef.current;
            const runId = event.runId;
            pending.current.set(requestId, { resolve: (v) => v.kind === 'weights' && keep(v.tensors, runId), reject: () => undefined });
            host.postToEngine({ type: 'mode-view', runId, requestId, query: { kind: 'weights' } });
          }
          return;
        }
        if (event.type === 'mode-view' || event.type === 'request-failed') {
          const waiter = pending.current.get(event.requestId);
          if (!waiter) return;
          pending.current.delete(event.requestId);
          if (event.type === 'mode-view') waiter.resolve(event.view);
          else waiter.reject(new Error(event.reason));
          return;
        }
        if (event.type === 'engine-error') {
          for (const w of pending.current.values()) w.reject(new Error(event.message));
          pending.current.clear();
          const id = runRef.current.id;
          if (id && (runRef.current.phase === 'running' || runRef.current.phase === 'starting')) dispatch({ kind: 'event', event: { type: 'mode-failed', runId: id, reason: event.message } });
        }
      }),
    [host],
  );

  const start = useCallback(
    (steps?: number) => {
      const doc = store.getState().doc;
      const runId = nextId('mode');
      const data = dataSettingsOf(doc);
      const payload = payloadFor?.(data.source);
      dispatch({ kind: 'start-requested', runId });
      host.postToEngine({ type: 'mode-start', runId, graph: doc.graph, data, training: trainingSettingsOf(doc), ...(payload ? { payload } : {}), ...(steps !== undefined ? { steps } : {}) });
    },
    [host, store, payloadFor],
  );

  const step = useCallback(
    (steps: number) => {
      const { id, phase } = runRef.current;
      if (id && phase === 'idle') host.postToEngine({ type: 'mode-step', runId: id, steps });
      else if (phase !== 'running' && phase !== 'starting') start(steps);
    },
    [host, start],
  );

  const stop = useCallback(() => {
    const id = runRef.current.id;
    if (id) host.postToEngine({ type: 'mode-stop', runId: id });
  }, [host]);

  const view = useCallback(
    (query: ModeViewQuery) =>
      new Promise<ModeView>((resolve, reject) => {
        const id = runRef.current.id;
        if (!id || runRef.current.phase === 'starting' || runRef.current.phase === 'failed' || runRef.current.phase === 'none') {
          reject(new Error('Train the model first'));
          return;
        }
        const requestId = nextId('mv');
        pending.current.set(requestId, { resolve, reject });
        host.postToEngine({ type: 'mode-view', runId: id, requestId, query });
      }),
    [host],
  );

  return useMemo(() => ({ mode, state, start, step, stop, view }), [mode, state, start, step, stop, view]);
}

export interface ViewState<V> {
  view: V | null;
  loading: boolean;
  error: string | null;
}

/**
 * A view of the run, fetched again whenever `key` changes (the query's settings) or the run's
 * views may have changed; null `query` fetches nothing.
 */
export function useModeView<K extends ModeView['kind']>(session: ModeSession, query: (ModeViewQuery & { kind: K }) | null, key: string): ViewState<Extract<ModeView, { kind: K }>> {
  const [state, setState] = useState<ViewState<Extract<ModeView, { kind: K }>>>({ view: null, loading: false, error: null });
  const { version, runId, phase } = session.state;
  const ready = runId !== null && phase !== 'starting' && phase !== 'none' && phase !== 'failed';
  const queryRef = useRef(query);
  queryRef.current = query;
  const enabled = query !== null;
  const { view } = session;
  useEffect(() => {
    const q = queryRef.current;
    if (!ready || !q) return;
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    view(q).then(
      (v) => live && setState({ view: v as Extract<ModeView, { kind: K }>, loading: false, error: null }),
      (err: unknown) => live && setState((s) => ({ ...s, loading: false, error: err instanceof Error ? err.message : String(err) })),
    );
    return () => {
      live = false;
    };
  }, [view, ready, version, runId, key, enabled]);
  useEffect(() => {
    if (!ready) setState({ view: null, loading: false, error: null });
  }, [ready, runId]);
  return state;
}
