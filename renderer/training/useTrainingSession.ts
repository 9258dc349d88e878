import type { ClassCounts } from '../../engine/data/class-counts.ts';
import { useCallback, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import type { DatasetMeta } from '../../engine/data/dataset.ts';
import type { DatasetInfo, DatasetPreview } from '../../engine/data/registry.ts';
import type { ProjectHistory } from '../../engine/io/project.ts';
import type { SafetensorsFile } from '../../engine/io/safetensors.ts';
import type { EngineRequest, TrainingBackend } from '../../engine/session/protocol.ts';
import type { InspectQuery } from '../../engine/train/inspect.ts';
import { pretrainedStart } from '../../engine/train/import-layers.ts';
import type { NamedValues } from '../../engine/train/trainer.ts';
import type { DataPayload } from '../../engine/data/prepare.ts';
import type { DataSource } from '../../engine/train/settings.ts';
import type { HostApi, ImportKind } from '../../main/api/host-api.ts';
import { importedSource, payloadFits } from './import-data.ts';
import { graphRoles } from '../inspect/graph-roles.ts';
import { toProbabilities, type InspectKind, type InspectView, type SampleChoice } from '../inspect/inspect-types.ts';
import type { EditorStore } from '../store/store.ts';
import { dataSettingsOf, noteTrainedWeights, setDataSettings, trainingSettingsOf } from '../store/training-actions.ts';
import { decodeEvent, replyError, type EngineReply, type RunData } from './engine-link.ts';
import { exportFile, stateOf, weightsFile, type ExportFormat } from './export-files.ts';
import { savedRun, withRun, type SavedRun } from './history.ts';
import { initialRunState, runReducer, type RunState } from './run-state.ts';

export type { ExportFormat };

export interface DataPreviewResult {
  meta: DatasetMeta;
  length: number;
  preview: DatasetPreview;
  splits: { train: number; val: number; test: number };
  /** The first sample under the chosen augmentations, a few times. */
  augmented?: number[][];
  /** Samples per class (whole dataset and per split), for class-index targets. */
  classCounts?: ClassCounts;
}

export interface DataPreviewState {
  loading: boolean;
  result: DataPreviewResult | null;
  error: string | null;
}

export interface CellSamples {
  row: number;
  col: number;
  indices: number[];
  /** The samples' inputs when they are images ([C, H, W] each). */
  images: number[][];
  shape: number[];
  error?: string;
}

export interface ExportState {
  busy: ExportFormat | null;
  message: string | null;
  failed: boolean;
}

export interface InspectionState {
  loading: InspectKind | null;
  results: Partial<Record<InspectKind, InspectView>>;
  error: string | null;
}

/** The open project's trained weights (kept with it when it is saved). */
export interface ProjectWeightsLink {
  weights(): SafetensorsFile | null;
  setWeights(weights: SafetensorsFile): void;
  /** Weights imported from other projects: layers marked pretrained start every run from them. */
  pretrained?(): SafetensorsFile | null;
  history(): ProjectHistory | null;
  setHistory(history: ProjectHistory): void;
  name(): string;
}

/** Loading the project's saved weights into the engine so they can be inspected. */
export interface SavedModelState {
  status: 'idle' | 'loading' | 'failed';
  error: string | null;
}

export interface TrainingSession {
  run: RunState;
  /** The backend the next run computes on (the Training panel's Backend field). */
  backend: TrainingBackend;
  setBackend(backend: TrainingBackend): void;
  /** Backends a run may choose, from the engine's handshake (the gpu before gpu.js is enabled). */
  choosableBackends: TrainingBackend[];
  start(): void;
  /** Keeps weights trained elsewhere (a course-mode run of this project's graph) as the project's weights. */
  adoptWeights(tensors: readonly NamedValues[], runId: string): void;
  pause(): void;
  resume(): void;
  stop(): void;
  dismissBanner(): void;
  datasets: DatasetInfo[];
  /** What the live run (or the last one) trains on. */
  runData: RunData | null;
  /** Class names of the current dataset (empty when unknown). */
  classNames: string[];
  /** Runs saved in the open project (history.json), oldest first. */
  savedRuns: SavedRun[];
  /** Trained weights are there (from a run of this session or the opened project). */
  hasWeights: boolean;
  /** A run in this session (or the project's loaded weights) holds a model that can be inspected now. */
  canInspect: boolean;
  savedModel: SavedModelState;
  /**
   * Loads the project's saved weights into the engine for inspection, when there are some
   * and no run of this session can be inspected. Does nothing while a load is under way.
   */
  loadSavedModel(): void;
  cellSamples: CellSamples | null;
  requestCellSamples(row: number, col: number): void;
  dataPreview: DataPreviewState;
  inspection: InspectionState;
  inspect(kind: InspectKind, sample: SampleChoice, nodeId?: string): void;
  exportState: ExportState;
  exportWeights(format: ExportFormat): void;
  /** Asks the host for a CSV file, a text file or an image folder and makes it the project's data. */
  importData(kind: ImportKind): void;
  /** The imported files the data source names, when they are loaded in this session. */
  payloadFor(source: DataSource): DataPayload | undefined;
}

let counter = 0;
/** A unique id for a run or a request in this page. */
export function nextId(prefix: string): string {
  counter += 1;
  return `${prefix}-${Date.now().toString(36)}-${counter}`;
}

const AUGMENTED_PREVIEWS = 8;
const EMBEDDING_SAMPLES = 300;

/**
 * The renderer's side of a training session: it sends protocol requests to the engine
 * worker through the host and turns the worker's events into what the panels draw. No
 * training or inspection computes here.
 */
export function useTrainingSession(host: HostApi, store: EditorStore, project: ProjectWeightsLink, engineReady: boolean, notify: (message: string) => void): TrainingSession {
  const [run, dispatchRun] = useReducer(runReducer, initialRunState);
  const [runData, setRunData] = useState<RunData | null>(null);
  const [datasets, setDatasets] = useState<DatasetInfo[]>([]);
  const [dataPreview, setDataPreview] = useState<DataPreviewState>({ loading: false, result: null, error: null });
  const [inspection, setInspection] = useState<InspectionState>({ loading: null, results: {}, error: null });
  const [exportState, setExportState] = useState<ExportState>({ busy: null, message: null, failed: false });
  const [cellSamples, setCellSamples] = useState<CellSamples | null>(null);
  const [hasWeights, setHasWeights] = useState(() => project.weights() !== null);
  const [savedRuns, setSavedRuns] = useState<SavedRun[]>(() => project.history()?.runs ?? []);
  const pending = useRef(new Map<string, (reply: EngineReply) => void>());
  const runId = useRef<string | null>(null);
  const [inspectableRun, setInspectableRun] = useState<string | null>(null);
  const [backend, setBackend] = useState<TrainingBackend>('cpu');
  const [choosableBackends, setChoosableBackends] = useState<TrainingBackend[]>([]);
  const [savedModel, setSavedModel] = useState<SavedModelState>({ status: 'idle', error: null });
  const savedLoad = useRef<string | null>(null);
  /** A run is under way (its model stays inspectable when another project opens). */
  const live = useRef(false);
  live.current = run.phase === 'running' || run.phase === 'paused' || run.phase === 'starting' || run.phase === 'stopping';
  const imported = useRef<{ name: string; payload: DataPayload } | null>(null);
  const [importVersion, setImportVersion] = useState(0);
  const payloadFor = useCallback((source: DataSource): DataPayload | undefined => (source.kind !== 'builtin' && payloadFits(source, imported.current) ? imported.current!.payload : undefined), []);

  /** Sends a request that carries `requestId`; resolves with its reply (or a failure). */
  const ask = useCallback(
    (make: (requestId: string) => EngineRequest): Promise<EngineReply> =>
      new Promise((resolve) => {
        const id = nextId('q');
        pending.current.set(id, resolve);
        host.postToEngine(make(id));
      }),
    [host],
  );

  const adoptWeights = useCallback(
    (tensors: readonly NamedValues[], id: string) => {
      project.setWeights(weightsFile(tensors, { format: 'pt', run: id }));
      store.dispatch(noteTrainedWeights, {});
      setHasWeights(true);
    },
    [project, store],
  );

  const fetchWeights = useCallback(
    (id: string) => {
      void ask((requestId) => ({ type: 'export-weights', runId: id, requestId })).then((reply) => {
        if (reply.type === 'weights') adoptWeights(reply.tensors, id);
      });
    },
    [ask, adoptWeights],
  );

  useEffect(
    () =>
      host.onEngineEvent((event) => {
        if (event.type === 'ready') {
          setChoosableBackends(event.choosableBackends ?? []);
          return;
        }
        // A run that enabled the gpu: a fresh handshake shows its gpu.js mode among the
        // engine's backends (the status bar).
        if (event.type === 'train-started' && event.backend?.startsWith('gpu')) host.postToEngine({ type: 'hello' });
        const decoded = decodeEvent(event);
        if (!decoded) return;
        switch (decoded.type) {
          case 'run': {
            const a = decoded.action;
            dispatchRun(a);
            if (decoded.started && decoded.started.runId === runId.current) setRunData(decoded.started);
            if (a.kind === 'finished' && a.id === runId.current) {
              setInspectableRun(a.id);
              fetchWeights(a.id);
            }
            if (a.kind === 'paused' && a.id === runId.current) setInspectableRun(a.id);
            if (a.kind === 'resumed' && a.id === runId.current) setInspectableRun(null);
            return;
          }
          case 'reply': {
            const resolve = pending.current.get(decoded.reply.requestId);
            if (resolve) {
              pending.current.delete(decoded.reply.requestId);
              resolve(decoded.reply);
            }
            return;
          }
          case 'engine-failed':
            // The worker is gone (or refused a request outright): nothing pending will be answered.
            for (const [requestId, resolve] of pending.current) resolve({ type: 'request-failed', requestId, reason: decoded.message });
            pending.current.clear();
            if (runId.current) dispatchRun({ kind: 'failed', id: runId.current, message: decoded.message });
            setInspectableRun(null);
        }
      }),
    [host, fetchWeights],
  );

  const start = useCallback(() => {
    const doc = store.getState().doc;
    const id = nextId('run');
    runId.current = id;
    setInspectableRun(null);
    const training = trainingSettingsOf(doc);
    const data = dataSettingsOf(doc);
    savedLoad.current = null;
    dispatchRun({ kind: 'start-requested', id, startedAt: new Date().toISOString(), training, data });
    let initialWeights: NamedValues[];
    try {
      initialWeights = pretrainedStart(doc.graph, project.pretrained?.());
    } catch (err) {
      dispatchRun({ kind: 'failed', id, message: err instanceof Error ? err.message : String(err) });
      return;
    }
    const payload = payloadFor(data.source);
    host.postToEngine({ type: 'train-start', runId: id, graph: doc.graph, data, training, backend, ...(payload ? { payload } : {}), ...(initialWeights.length ? { initialWeights } : {}) });
  }, [host, store, payloadFor, backend, project]);

  const loadSavedModel = useCallback(() => {
    const weights = project.weights();
    // A live run keeps the engine's model; its own weights become inspectable when it pauses or ends.
    if (!weights || inspectableRun || savedLoad.current || live.current) return;
    const doc = store.getState().doc;
    const data = dataSettingsOf(doc);
    const payload = payloadFor(data.source);
    if (data.source.kind !== 'builtin' && data.source.kind !== 'mode' && !payload) {
      const what = data.source.kind === 'images' ? `the image folder "${data.source.folder}"` : `"${data.source.file}"`;
      setSavedModel({ status: 'failed', error: `Imported data is not stored in the project: import ${what} again to inspect the saved weights.` });
      return;
    }
    let state;
    try {
      state = stateOf(weights);
    } catch (err) {
      setSavedModel({ status: 'failed', error: `The project's weights cannot be read: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    const id = nextId('saved');
    savedLoad.current = id;
    setSavedModel({ status: 'loading', error: null });
    void ask((requestId) => ({ type: 'load-model', runId: id, requestId, graph: doc.graph, data, weights: state, seed: trainingSettingsOf(doc).seed, ...(payload ? { payload } : {}) })).then((reply) => {
      if (savedLoad.current !== id) return;
      savedLoad.current = null;
      if (reply.type !== 'model-loaded') {
        setSavedModel({ status: 'failed', error: `Could not load the saved weights: ${replyError(reply, 'model-loaded')}` });
        return;
      }
      setSavedModel({ status: 'idle', error: null });
      setRunData({
        runId: id,
        classNames: reply.dataset.classNames ?? [],
        inputShape: reply.dataset.inputShape,
        isImage: reply.dataset.preview === 'image',
        splits: reply.splits,
        numParameters: reply.numParameters,
        backend: reply.backend,
      });
      setInspectableRun(id);
    });
  }, [ask, project, store, payloadFor, inspectableRun]);

  const control = useCallback(
    (kind: 'pause' | 'resume' | 'stop') => {
      const id = runId.current;
      if (!id) return;
      if (kind === 'stop') dispatchRun({ kind: 'stop-requested' });
      host.postToEngine({ type: `train-${kind}`, runId: id });
    },
    [host],
  );

  // The backends a run may choose (the gpu before gpu.js is enabled), asked once the engine is up.
  useEffect(() => {
    if (engineReady) host.postToEngine({ type: 'hello' });
  }, [engineReady, host]);

  // The dataset list, once the engine is up.
  useEffect(() => {
    if (!engineReady) return;
    void ask((requestId) => ({ type: 'list-datasets', requestId })).then((reply) => {
      if (reply.type === 'datasets') setDatasets(reply.datasets);
    });
  }, [engineReady, ask]);

  // The preview follows the project's data settings; a newer request wins.
  const previewSeq = useRef(0);
  useEffect(() => {
    if (!engineReady) return;
    let key = '';
    const follow = (): void => {
      const settings = dataSettingsOf(store.getState().doc);
      const next = JSON.stringify(settings);
      if (next === key) return;
      key = next;
      const mine = ++previewSeq.current;
      const payload = payloadFor(settings.source);
      if (settings.source.kind !== 'builtin' && settings.source.kind !== 'mode' && !payload) {
        const what = settings.source.kind === 'images' ? `the image folder "${settings.source.folder}"` : `"${settings.source.file}"`;
        setDataPreview({ loading: false, result: null, error: `Imported data is not stored in the project: import ${what} again to preview and train on it.` });
        return;
      }
      setDataPreview((p) => ({ ...p, loading: true }));
      void ask((requestId) => ({ type: 'data-preview', requestId, data: settings, ...(payload ? { payload } : {}), augmentations: settings.augmentation.length > 0 ? AUGMENTED_PREVIEWS : 0 })).then((reply) => {
        if (previewSeq.current !== mine) return;
        if (reply.type === 'data-preview') {
          setDataPreview({ loading: false, error: null, result: { meta: reply.preview.meta, length: reply.preview.length, preview: reply.preview.preview, splits: reply.splits, augmented: reply.augmented?.samples, ...(reply.classCounts ? { classCounts: reply.classCounts } : {}) } });
        } else setDataPreview({ loading: false, result: null, error: replyError(reply, 'data-preview') });
      });
    };
    follow();
    return store.subscribe(follow);
  }, [engineReady, store, ask, payloadFor, importVersion]);

  const importData = useCallback(
    (kind: ImportKind) => {
      host
        .importData(kind)
        .then(async (data) => {
          if (!data) return;
          const settings = dataSettingsOf(store.getState().doc);
          const { source, payload } = await importedSource(data, settings.source);
          imported.current = { name: data.name, payload };
          setImportVersion((v) => v + 1);
          const r = store.dispatch(setDataSettings, { settings: { ...settings, source, augmentation: kind === 'images' ? settings.augmentation : [] }, what: 'dataset' });
          notify(r.ok || r.message === 'The data settings are unchanged.' ? `Imported ${data.name} (${data.files.length} file${data.files.length === 1 ? '' : 's'})` : r.message);
        })
        .catch((err: unknown) => notify(`Could not import: ${err instanceof Error ? err.message : String(err)}`));
    },
    [host, store, notify],
  );

  const query = useCallback(
    (q: InspectQuery) => {
      const id = inspectableRun;
      if (!id) return Promise.resolve<EngineReply>({ type: 'request-failed', requestId: '', reason: 'Train the model (or pause the run) to inspect it' });
      return ask((requestId) => ({ type: 'inspect', runId: id, requestId, query: q }));
    },
    [ask, inspectableRun],
  );

  const inspect = useCallback(
    (kind: InspectKind, sample: SampleChoice, nodeId?: string) => {
      setInspection((s) => ({ ...s, loading: kind, error: null }));
      const done = (view: InspectView): void => setInspection((s) => ({ loading: null, error: null, results: { ...s.results, [kind]: view } }));
      const fail = (message: string): void => setInspection((s) => ({ ...s, loading: null, error: message }));
      const ref = { split: sample.split, index: sample.index, ...(sample.values ? { values: sample.values } : {}) };
      if (kind === 'predict') {
        const roles = graphRoles(store.getState().doc.graph, store.layers.getLayer);
        if (!roles.predictionId) return fail('The model has no output to read a prediction from');
        const activation = (nodeId: string | null) => (nodeId ? query({ kind: 'activations', nodeId, sample: ref }) : Promise.resolve(null));
        void Promise.all([activation(roles.predictionId), activation(roles.inputId), activation(roles.targetId)]).then(([pred, input, target]) => {
          if (!pred || pred.type !== 'inspect-result' || pred.result.kind !== 'activations') return fail(pred ? replyError(pred, 'inspect-result') : 'No prediction');
          const asValues = (r: EngineReply | null) => (r && r.type === 'inspect-result' && r.result.kind === 'activations' ? r.result : null);
          const t = asValues(target);
          done({
            kind: 'predict',
            probabilities: toProbabilities(pred.result.values),
            classNames: runData?.classNames ?? [],
            input: asValues(input),
            ...(t && t.values.length === 1 && !sample.values ? { target: t.values[0] } : {}),
          });
        });
        return;
      }
      let q: InspectQuery;
      switch (kind) {
        case 'saliency':
          q = { kind: 'saliency', sample: ref };
          break;
        case 'embeddings':
          q = { kind: 'embeddings', nodeId: nodeId!, split: sample.split, count: EMBEDDING_SAMPLES };
          break;
        case 'filters':
          q = { kind: 'filters', nodeId: nodeId! };
          break;
        default:
          q = { kind, nodeId: nodeId!, sample: ref };
      }
      void query(q).then((reply) => (reply.type === 'inspect-result' ? done(reply.result) : fail(replyError(reply, 'inspect-result'))));
    },
    [query, store, runData],
  );

  const requestCellSamples = useCallback(
    (row: number, col: number) => {
      const id = inspectableRun;
      setCellSamples(null);
      const fail = (error: string) => setCellSamples({ row, col, indices: [], images: [], shape: [], error });
      if (!id) return fail('The samples of a cell are available for a finished run of this session');
      const split = run.current?.testMetrics ? 'test' : 'val';
      void ask((requestId) => ({ type: 'confusion-samples', runId: id, requestId, split, actual: row, predicted: col, limit: 24 })).then(async (reply) => {
        if (reply.type !== 'confusion-samples') return fail(replyError(reply, 'confusion-samples'));
        const roles = graphRoles(store.getState().doc.graph, store.layers.getLayer);
        const images: number[][] = [];
        let shape: number[] = [];
        if (runData?.isImage && roles.inputId) {
          for (const index of reply.indices) {
            const r = await ask((requestId) => ({ type: 'inspect', runId: id, requestId, query: { kind: 'activations', nodeId: roles.inputId!, sample: { split, index } } }));
            if (r.type === 'inspect-result' && r.result.kind === 'activations') {
              images.push(r.result.values);
              shape = r.result.shape;
            }
          }
        }
        setCellSamples({ row, col, indices: reply.indices, images, shape });
      });
    },
    [ask, inspectableRun, run, runData, store],
  );

  const exportWeights = useCallback(
    (format: ExportFormat) => {
      setExportState({ busy: format, message: null, failed: false });
      const doc = store.getState().doc;
      exportFile(format, { name: project.name(), graph: doc.graph, training: trainingSettingsOf(doc), weights: project.weights() })
        .then(async (file) => {
          await host.exportFile({ suggestedName: file.fileName, bytes: file.bytes, kind: format === 'safetensors' ? 'weights' : format });
          setExportState({ busy: null, message: `Exported ${file.fileName} (${file.bytes.length.toLocaleString()} bytes)`, failed: false });
        })
        .catch((err: unknown) => setExportState({ busy: null, message: `Could not export: ${err instanceof Error ? err.message : String(err)}`, failed: true }));
    },
    [host, store, project],
  );

  // Each run that ends joins the project's history (saved with the project).
  const recorded = useRef(new Set<string>());
  useEffect(() => {
    const latest = run.runs[0];
    if (!latest || recorded.current.has(latest.id) || latest.status === 'running') return;
    recorded.current.add(latest.id);
    if (latest.status === 'failed') return;
    const history = withRun(project.history() ?? undefined, savedRun(latest));
    project.setHistory(history);
    setSavedRuns(history.runs);
  }, [run.runs, project]);

  // A project that opens brings its own weights (or none); inspection results belong to the old one.
  useEffect(() => {
    let loads = store.getState().loads;
    return store.subscribe(() => {
      const now = store.getState().loads;
      if (now === loads) return;
      loads = now;
      setHasWeights(project.weights() !== null);
      setSavedRuns(project.history()?.runs ?? []);
      setInspection({ loading: null, results: {}, error: null });
      setCellSamples(null);
      // The model in the engine belongs to the previous project (unless a run is still going).
      savedLoad.current = null;
      setSavedModel({ status: 'idle', error: null });
      setInspectableRun((id) => (id !== null && id === runId.current && live.current ? id : null));
    });
  }, [store, project]);

  const classNames = runData?.classNames.length ? runData.classNames : (dataPreview.result?.meta.classNames ?? []);

  return useMemo(
    () => ({
      run,
      backend,
      setBackend,
      choosableBackends,
      start,
      adoptWeights,
      pause: () => control('pause'),
      resume: () => control('resume'),
      stop: () => control('stop'),
      dismissBanner: () => dispatchRun({ kind: 'dismiss-banner' }),
      datasets,
      runData,
      classNames,
      savedRuns,
      hasWeights,
      canInspect: inspectableRun !== null,
      savedModel,
      loadSavedModel,
      cellSamples,
      requestCellSamples,
      dataPreview,
      inspection,
      inspect,
      exportState,
      exportWeights,
      importData,
      payloadFor,
    }),
    [run, backend, choosableBackends, start, adoptWeights, control, datasets, runData, classNames, savedRuns, hasWeights, inspectableRun, savedModel, loadSavedModel, cellSamples, requestCellSamples, dataPreview, inspection, inspect, exportState, exportWeights, importData, payloadFor],
  );
}
