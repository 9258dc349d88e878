/**
 * UTF-8 text coding through the platform's TextEncoder/TextDecoder (every host the engine
 * runs in has them; the engine's lib settings do not declare them).
 */
interface TextCoders {
  TextEncoder: new () => { encode(text: string): Uint8Array };
  TextDecoder: new (label: string, options: { fatal: boolean }) => { decode(bytes: Uint8Array): string };
}
const coders = globalThis as unknown as TextCoders;
const encoder = new coders.TextEncoder();
const decoder = new coders.TextDecoder('utf-8', { fatal: true });

export function encodeUtf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text) as Uint8Array<ArrayBuffer>;
}

/** Decodes strictly; throws on invalid UTF-8. */
export function decodeUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}
