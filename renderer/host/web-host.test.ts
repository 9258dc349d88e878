import { describe, expect, it } from 'vitest';
import { parseExampleIndex, shortcutCommand } from './web-host.ts';

const key = (k: string, mods: { ctrl?: boolean; meta?: boolean; shift?: boolean; alt?: boolean } = {}) => ({
  key: k,
  ctrlKey: mods.ctrl ?? false,
  metaKey: mods.meta ?? false,
  shiftKey: mods.shift ?? false,
  altKey: mods.alt ?? false,
});

describe('web host', () => {
  it('maps the desktop accelerators to menu commands', () => {
    expect(shortcutCommand(key('s', { ctrl: true }))).toBe('save');
    expect(shortcutCommand(key('S', { meta: true, shift: true }))).toBe('save-as');
    expect(shortcutCommand(key('z', { ctrl: true }))).toBe('undo');
    expect(shortcutCommand(key('z', { ctrl: true, shift: true }))).toBe('redo');
    expect(shortcutCommand(key('y', { ctrl: true }))).toBe('redo');
    expect(shortcutCommand(key('s'))).toBeNull();
    expect(shortcutCommand(key('s', { ctrl: true, alt: true }))).toBeNull();
  });

  it('validates the served example index', () => {
    expect(parseExampleIndex([{ id: 'xor', title: 'XOR', description: '' }])).toEqual([{ id: 'xor', title: 'XOR', description: '' }]);
    expect(() => parseExampleIndex([{ id: 'Bad Id', title: 'x', description: '' }])).toThrow('examples/index.json[0].id');
  });
});
