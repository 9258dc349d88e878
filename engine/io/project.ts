/**
 * `.aps` project files: a zip archive holding project.json, and optionally
 * weights.safetensors (trained parameters under state_dict names), pretrained.safetensors
 * (weights imported from other projects, which nodes marked `pretrained` start from) and
 * history.json (finished runs with per-epoch metrics).
 *
 * `readProject` treats its input as untrusted: the archive is checked before anything is
 * inflated (see zip.ts), project.json is parsed strictly, checked against the schema of
 * its version and migrated forward to the current version; a newer version is refused.
 * Every failure is a ProjectError whose message names the entry, the field and what was
 * expected.
 */
import { decodeUtf8, encodeUtf8 } from './utf8.ts';
import type { z } from 'zod';
import type { ModelGraph } from '../graph/types.ts';
import {
  type DataSettings,
  type PartialDataSettings,
  type PartialTrainingSettings,
  type TrainingSettings,
  validateDataSettings,
  validateTrainingSettings,
  withDataDefaults,
  withTrainingDefaults,
} from '../train/settings.ts';
import {
  CURRENT_VERSION,
  historySchema,
  migrations,
  type ProjectHistory,
  type ProjectUi,
  versionSchemas,
} from './project-schema.ts';
import { readSafetensors, SafetensorsError, type SafetensorsFile, writeSafetensors } from './safetensors.ts';
import { parseStrictJson, StrictJsonError } from './strict-json.ts';
import { readZip, writeZip, ZipError, type ZipLimits } from './zip.ts';

export type { ProjectHistory, ProjectUi };

export interface Project {
  name: string;
  graph: ModelGraph;
  /** Dataset settings (engine/train/settings.ts DataSettings; read with defaults filled in). */
  data: Record<string, unknown>;
  /** Training settings (TrainingSettings; read with defaults filled in). */
  training: Record<string, unknown>;
  ui: ProjectUi;
  /** Trained parameters and buffers by state_dict name. */
  weights?: SafetensorsFile;
  /** Weights imported from other projects by state_dict name: nodes marked `pretrained` start from them. */
  pretrained?: SafetensorsFile;
  history?: ProjectHistory;
}

/** What `writeProject` takes: settings are checked when written. */
export type ProjectInput = Omit<Project, 'data' | 'training'> & { data: unknown; training: unknown };

/** The project's data settings, typed, with defaults for anything left out. */
export function dataSettingsOf(project: Pick<ProjectInput, 'data'>): DataSettings {
  return checkedData(project.data, PROJECT_ENTRY);
}

/** The project's training settings, typed, with defaults for anything left out. */
export function trainingSettingsOf(project: Pick<ProjectInput, 'training'>): TrainingSettings {
  return checkedTraining(project.training, PROJECT_ENTRY);
}

export class ProjectError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProjectError';
  }
}

export const PROJECT_ENTRY = 'project.json';
export const WEIGHTS_ENTRY = 'weights.safetensors';
export const HISTORY_ENTRY = 'history.json';
export const PRETRAINED_ENTRY = 'pretrained.safetensors';

const MiB = 1024 * 1024;
export const PROJECT_LIMITS: ZipLimits = {
  allowed: { [PROJECT_ENTRY]: 32 * MiB, [WEIGHTS_ENTRY]: 1024 * MiB, [PRETRAINED_ENTRY]: 1024 * MiB, [HISTORY_ENTRY]: 64 * MiB },
  maxEntries: 16,
  maxTotalBytes: 1100 * MiB,
  maxRatio: 200,
  ratioFloorBytes: MiB,
};

/** Formats the first zod issue as "field.path: message". */
function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const path = issue.path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
  const more = error.issues.length > 1 ? ` (and ${error.issues.length - 1} more problem${error.issues.length > 2 ? 's' : ''})` : '';
  return `${path || '(top level)'}: ${issue.message}${more}`;
}

function parseJsonEntry(bytes: Uint8Array, entry: string): unknown {
  let text: string;
  try {
    text = decodeUtf8(bytes);
  } catch {
    throw new ProjectError(`${entry}: not valid UTF-8 text`);
  }
  try {
    return parseStrictJson(text);
  } catch (err) {
    throw new ProjectError(`${entry}: not valid JSON (${err instanceof StrictJsonError ? err.message : String(err)})`);
  }
}

/** Validates a parsed project.json of any known version and migrates it to the current one. */
export function parseProjectJson(json: unknown): Omit<Project, 'weights' | 'pretrained' | 'history'> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ProjectError(`${PROJECT_ENTRY}: expected a JSON object`);
  const doc = json as Record<string, unknown>;
  if (doc.format !== 'aps') {
    throw new ProjectError(`${PROJECT_ENTRY}: format: expected "aps", found ${JSON.stringify(doc.format) ?? 'nothing'} (this is not an APS Studio project)`);
  }
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1) {
    throw new ProjectError(`${PROJECT_ENTRY}: version: expected a positive integer, found ${JSON.stringify(version) ?? 'nothing'}`);
  }
  if (version > CURRENT_VERSION) {
    throw new ProjectError(
      `${PROJECT_ENTRY}: this project has file version ${version}, newer than version ${CURRENT_VERSION} that this APS Studio reads; open it with a newer APS Studio`,
    );
  }
  let current: unknown = json;
  for (let v = version; v <= CURRENT_VERSION; v++) {
    const result = versionSchemas[v]!.safeParse(current);
    if (!result.success) {
      throw new ProjectError(`${PROJECT_ENTRY}${v === version ? '' : ` (after migrating from version ${version} to ${v})`}: ${describeIssue(result.error)}`);
    }
    current = v < CURRENT_VERSION ? migrations[v]!(result.data) : result.data;
  }
  const p = current as { name: string; graph: ModelGraph; data: Record<string, unknown>; training: Record<string, unknown>; ui: ProjectUi };
  const data = checkedData(p.data, PROJECT_ENTRY) as unknown as Record<string, unknown>;
  const training = checkedTraining(p.training, PROJECT_ENTRY) as unknown as Record<string, unknown>;
  return { name: p.name, graph: p.graph, data, training, ui: p.ui };
}

/** Data settings with defaults, or a ProjectError naming the first bad field. */
function checkedData(data: unknown, where: string): DataSettings {
  const filled = withDataDefaults((data ?? {}) as PartialDataSettings);
  const errors = validateDataSettings(filled);
  if (errors.length) throw new ProjectError(`${where}: data.${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`);
  return filled;
}

/** Training settings with defaults, or a ProjectError naming the first bad field. */
function checkedTraining(training: unknown, where: string): TrainingSettings {
  const filled = withTrainingDefaults((training ?? {}) as PartialTrainingSettings);
  const errors = validateTrainingSettings(filled);
  if (errors.length) throw new ProjectError(`${where}: training.${errors[0]}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`);
  return filled;
}

/** Reads an untrusted `.aps` file. Throws ProjectError (and only that) on any problem. */
export function readProject(bytes: Uint8Array): Project {
  let entries: Map<string, Uint8Array>;
  try {
    entries = readZip(bytes, PROJECT_LIMITS);
  } catch (err) {
    if (err instanceof ZipError) throw new ProjectError(`Not a valid project archive: ${err.message}`);
    throw new ProjectError(`Not a valid project archive: ${err instanceof Error ? err.message : String(err)}`);
  }
  const manifest = entries.get(PROJECT_ENTRY);
  if (!manifest) throw new ProjectError(`The archive has no ${PROJECT_ENTRY} entry (found: ${[...entries.keys()].join(', ') || 'no entries'})`);
  const project: Project = parseProjectJson(parseJsonEntry(manifest, PROJECT_ENTRY));

  for (const [entry, key] of [[WEIGHTS_ENTRY, 'weights'], [PRETRAINED_ENTRY, 'pretrained']] as const) {
    const bytes = entries.get(entry);
    if (!bytes) continue;
    try {
      project[key] = readSafetensors(bytes);
    } catch (err) {
      throw new ProjectError(`${entry}: ${err instanceof SafetensorsError ? err.message : String(err)}`);
    }
  }
  const history = entries.get(HISTORY_ENTRY);
  if (history) {
    const result = historySchema.safeParse(parseJsonEntry(history, HISTORY_ENTRY));
    if (!result.success) throw new ProjectError(`${HISTORY_ENTRY}: ${describeIssue(result.error)}`);
    project.history = result.data;
  }
  return project;
}

/** The current-version project.json document for a project. */
export function projectJson(project: ProjectInput): Record<string, unknown> {
  return {
    format: 'aps',
    version: CURRENT_VERSION,
    name: project.name,
    graph: project.graph,
    data: checkedData(project.data, 'Cannot save'),
    training: checkedTraining(project.training, 'Cannot save'),
    ui: project.ui,
  };
}

/**
 * Serialises a project. The manifest is validated first, so a project that could not be
 * read back is never written.
 */
export function writeProject(project: ProjectInput): Uint8Array {
  const json = projectJson(project);
  const check = versionSchemas[CURRENT_VERSION]!.safeParse(json);
  if (!check.success) throw new ProjectError(`Cannot save: ${PROJECT_ENTRY}: ${describeIssue(check.error)}`);
  const entries: { name: string; data: Uint8Array; compress: boolean }[] = [{ name: PROJECT_ENTRY, data: encodeUtf8(`${JSON.stringify(json, null, 2)}\n`), compress: true }];
  for (const [entry, file] of [[WEIGHTS_ENTRY, project.weights], [PRETRAINED_ENTRY, project.pretrained]] as const) {
    if (!file) continue;
    const bytes = writeSafetensors(
      [...file.tensors].map(([name, t]) => [name, { shape: t.shape, data: t.data }] as const),
      file.metadata,
    );
    entries.push({ name: entry, data: bytes, compress: false });
  }
  if (project.history) {
    const h = historySchema.safeParse(project.history);
    if (!h.success) throw new ProjectError(`Cannot save: ${HISTORY_ENTRY}: ${describeIssue(h.error)}`);
    entries.push({ name: HISTORY_ENTRY, data: encodeUtf8(JSON.stringify(project.history)), compress: true });
  }
  return writeZip(entries);
}
