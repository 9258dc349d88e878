/** The Open Recent list, persisted as JSON in the user data folder. */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RecentFile } from './api/host-api.ts';
import { writeFileAtomic } from './project-files.ts';

export const MAX_RECENT_FILES = 10;

export class RecentFiles {
  private paths: string[] | null = null;

  constructor(private readonly storePath: string) {}

  async list(): Promise<RecentFile[]> {
    return (await this.load()).map((p) => ({ id: p, name: path.basename(p) }));
  }

  /** Moves `filePath` to the top of the list. */
  async add(filePath: string): Promise<void> {
    const absolute = path.resolve(filePath);
    const paths = (await this.load()).filter((p) => p !== absolute);
    paths.unshift(absolute);
    await this.store(paths.slice(0, MAX_RECENT_FILES));
  }

  async remove(filePath: string): Promise<void> {
    await this.store((await this.load()).filter((p) => p !== filePath));
  }

  async has(filePath: string): Promise<boolean> {
    return (await this.load()).includes(filePath);
  }

  async clear(): Promise<void> {
    await this.store([]);
  }

  private async load(): Promise<string[]> {
    if (this.paths) return this.paths;
    try {
      const parsed: unknown = JSON.parse(await fs.readFile(this.storePath, 'utf8'));
      const list = parsed && typeof parsed === 'object' ? (parsed as { recent?: unknown }).recent : undefined;
      this.paths = Array.isArray(list) ? list.filter((p): p is string => typeof p === 'string' && path.isAbsolute(p)) : [];
    } catch {
      // Missing or unreadable list: start empty rather than block the app.
      this.paths = [];
    }
    return this.paths;
  }

  private async store(paths: string[]): Promise<void> {
    this.paths = paths;
    await fs.mkdir(path.dirname(this.storePath), { recursive: true });
    await writeFileAtomic(this.storePath, new TextEncoder().encode(JSON.stringify({ recent: paths }, null, 2)));
  }
}
