/**
 * Validation of everything that crosses from the renderer into the main process:
 * who sent it (senderFrame URL) and what it carries (payload schemas).
 */
import { z } from 'zod';
import { EXPORT_KINDS, IMPORT_KINDS, type ExportKind, type ImportKind } from './api/host-api.ts';

const MAX_PROJECT_BYTES = 1024 * 1024 * 1024;
const MAX_ENGINE_MESSAGE_DEPTH = 32;

/** Thrown for any rejected IPC call; its message is shown to the renderer. */
export class IpcValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IpcValidationError';
  }
}

const fileName = z
  .string()
  .min(1, 'must not be empty')
  .max(255, 'must be at most 255 characters')
  .refine((name) => !/[/\\\0]/.test(name), 'must be a plain file name without "/", "\\" or NUL');

const bytes = z
  .instanceof(Uint8Array, { message: 'must be a Uint8Array' })
  .refine((b) => b.byteLength <= MAX_PROJECT_BYTES, `must be at most ${MAX_PROJECT_BYTES} bytes`);

export const payloadSchemas = {
  saveProject: z.strictObject({ name: fileName, bytes, saveAs: z.boolean() }),
  openExample: z.strictObject({ id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,99}$/, 'must be an example id (lowercase letters, digits, "-" and "_")') }),
  exportFile: z.strictObject({
    suggestedName: fileName,
    bytes,
    kind: z.enum(EXPORT_KINDS as readonly ExportKind[] as [ExportKind, ...ExportKind[]]),
  }),
  importData: z.strictObject({ kind: z.enum(IMPORT_KINDS as readonly ImportKind[] as [ImportKind, ...ImportKind[]]) }),
  openRecent: z.strictObject({ id: z.string().min(1).max(4096) }),
  setTitle: z.strictObject({ title: z.string().max(500), dirty: z.boolean() }),
  postToEngine: z.strictObject({
    message: z
      .looseObject({ type: z.string().min(1).max(100) })
      .refine((m) => isPlainData(m, 0), 'must be plain data (objects, arrays, strings, numbers, booleans, null, typed arrays)'),
  }),
} as const;

export type PayloadName = keyof typeof payloadSchemas;
export type Payload<N extends PayloadName> = z.infer<(typeof payloadSchemas)[N]>;

/** Parses one IPC payload or throws an IpcValidationError naming the first problem. */
export function parsePayload<N extends PayloadName>(name: N, payload: unknown): Payload<N> {
  const result = payloadSchemas[name].safeParse(payload);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? `.${issue.path.join('.')}` : '';
    const what = issue?.code === 'unrecognized_keys' ? issue.message : `${issue?.message ?? 'invalid'}`;
    throw new IpcValidationError(`Invalid ${name} payload${where}: ${what}`);
  }
  return result.data as Payload<N>;
}

/** True for structured-clone-safe plain data that the engine protocol can carry. */
export function isPlainData(value: unknown, depth: number): boolean {
  if (depth > MAX_ENGINE_MESSAGE_DEPTH) return false;
  if (value === null) return true;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return true;
  if (Array.isArray(value)) return value.every((item) => isPlainData(item, depth + 1));
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.values(value as Record<string, unknown>).every((item) => isPlainData(item, depth + 1));
}

/**
 * Whether an IPC message comes from our own page. `appUrl` is the URL the window
 * loaded: for file: URLs the exact file must match, otherwise the origin.
 */
export function isTrustedSenderUrl(senderUrl: string | undefined, appUrl: string): boolean {
  if (!senderUrl) return false;
  let sender: URL;
  let app: URL;
  try {
    sender = new URL(senderUrl);
    app = new URL(appUrl);
  } catch {
    return false;
  }
  if (app.protocol === 'file:') {
    return sender.protocol === 'file:' && sender.host === app.host && decodeURIComponent(sender.pathname) === decodeURIComponent(app.pathname);
  }
  return sender.origin === app.origin && sender.origin !== 'null';
}

/** Throws unless the sender is our app's main frame. */
export function assertTrustedSender(channel: string, frame: { url: string; parent: unknown } | null | undefined, appUrl: string): void {
  if (!frame) {
    throw new IpcValidationError(`Rejected ${channel}: the sending frame is gone`);
  }
  if (frame.parent !== null) {
    throw new IpcValidationError(`Rejected ${channel}: only the app's top-level frame may call the host`);
  }
  if (!isTrustedSenderUrl(frame.url, appUrl)) {
    throw new IpcValidationError(`Rejected ${channel}: sender ${frame.url || '(no URL)'} is not the APS Studio app`);
  }
}
