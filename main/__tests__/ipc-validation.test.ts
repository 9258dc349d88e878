import { describe, expect, it } from 'vitest';
import { assertTrustedSender, IpcValidationError, isPlainData, isTrustedSenderUrl, parsePayload } from '../ipc-validation.ts';

const APP_URL = 'file:///opt/APS%20Studio/resources/app.asar/dist/renderer/index.html';

describe('parsePayload', () => {
  it('accepts a well-formed save request', () => {
    const bytes = new Uint8Array([1, 2, 3]);
    expect(parsePayload('saveProject', { name: 'net.aps', bytes, saveAs: false })).toEqual({ name: 'net.aps', bytes, saveAs: false });
  });

  it('names the field and the problem', () => {
    expect(() => parsePayload('saveProject', { name: 'net.aps', bytes: [1, 2], saveAs: false })).toThrow(
      /Invalid saveProject payload\.bytes: must be a Uint8Array/,
    );
    expect(() => parsePayload('saveProject', { name: '', bytes: new Uint8Array(), saveAs: false })).toThrow(/\.name: must not be empty/);
  });

  it('rejects file names that are paths', () => {
    expect(() => parsePayload('exportFile', { suggestedName: '../../etc/passwd', bytes: new Uint8Array(), kind: 'weights' })).toThrow(
      /suggestedName: must be a plain file name/,
    );
  });

  it('rejects unknown keys and unknown export kinds', () => {
    expect(() => parsePayload('setTitle', { title: 'x', dirty: true, extra: 1 })).toThrow(/Unrecognized key: "extra"/);
    expect(() => parsePayload('exportFile', { suggestedName: 'w.bin', bytes: new Uint8Array(), kind: 'exe' })).toThrow(/payload\.kind/);
  });

  it('rejects example ids that could leave the examples folder', () => {
    expect(parsePayload('openExample', { id: 'mnist-mlp' }).id).toBe('mnist-mlp');
    expect(() => parsePayload('openExample', { id: '../secret' })).toThrow(/payload\.id: must be an example id/);
  });

  it('checks engine messages are typed plain data', () => {
    expect(parsePayload('postToEngine', { message: { type: 'ping', id: 3 } }).message).toEqual({ type: 'ping', id: 3 });
    expect(() => parsePayload('postToEngine', { message: { id: 3 } })).toThrow(/payload\.message\.type/);
    expect(() => parsePayload('postToEngine', { message: { type: 'train', when: new Date() } })).toThrow(/must be plain data/);
    expect(() => parsePayload('postToEngine', null)).toThrow(IpcValidationError);
  });
});

describe('isPlainData', () => {
  it('accepts nested objects, arrays and typed arrays', () => {
    expect(isPlainData({ a: [1, 'x', null, { b: new Float32Array(2) }] }, 0)).toBe(true);
  });
  it('refuses functions, class instances and excessive nesting', () => {
    expect(isPlainData({ f: () => 1 }, 0)).toBe(false);
    expect(isPlainData({ m: new Map() }, 0)).toBe(false);
    let deep: unknown = 1;
    for (let i = 0; i < 40; i++) deep = [deep];
    expect(isPlainData(deep, 0)).toBe(false);
  });
});

describe('sender checks', () => {
  it('trusts only the app page itself for file: URLs', () => {
    expect(isTrustedSenderUrl(APP_URL, APP_URL)).toBe(true);
    expect(isTrustedSenderUrl(`${APP_URL}#/project`, APP_URL)).toBe(true);
    expect(isTrustedSenderUrl('file:///tmp/evil.html', APP_URL)).toBe(false);
    expect(isTrustedSenderUrl('https://example.com/', APP_URL)).toBe(false);
    expect(isTrustedSenderUrl(undefined, APP_URL)).toBe(false);
    expect(isTrustedSenderUrl('not a url', APP_URL)).toBe(false);
  });

  it('compares origins for http app URLs', () => {
    expect(isTrustedSenderUrl('http://127.0.0.1:5173/index.html', 'http://127.0.0.1:5173/')).toBe(true);
    expect(isTrustedSenderUrl('http://127.0.0.1:9999/', 'http://127.0.0.1:5173/')).toBe(false);
  });

  it('rejects subframes, vanished frames and foreign pages with a reason', () => {
    expect(() => assertTrustedSender('aps:save-project', { url: APP_URL, parent: null }, APP_URL)).not.toThrow();
    expect(() => assertTrustedSender('aps:save-project', null, APP_URL)).toThrow(/sending frame is gone/);
    expect(() => assertTrustedSender('aps:save-project', { url: APP_URL, parent: {} }, APP_URL)).toThrow(/top-level frame/);
    expect(() => assertTrustedSender('aps:save-project', { url: 'https://evil.test/', parent: null }, APP_URL)).toThrow(
      /sender https:\/\/evil\.test\/ is not the APS Studio app/,
    );
  });
});
