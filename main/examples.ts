/**
 * The bundled example projects: examples/index.json lists them and each one is
 * examples/<id>.aps. The renderer build copies the folder next to index.html, so
 * the main process and the web host read the same files.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { ExampleInfo, ProjectFile } from './api/host-api.ts';

const EXAMPLE_ID = /^[a-z0-9][a-z0-9_-]{0,99}$/;

/** Parses examples/index.json: an array of {id, title, description}. */
export function parseExampleIndex(json: unknown, source: string): ExampleInfo[] {
  if (!Array.isArray(json)) throw new Error(`${source}: expected an array of examples`);
  return json.map((entry: unknown, i) => {
    const e = entry as Partial<Record<keyof ExampleInfo, unknown>> | null;
    if (!e || typeof e !== 'object') throw new Error(`${source}[${i}]: expected an object`);
    if (typeof e.id !== 'string' || !EXAMPLE_ID.test(e.id)) throw new Error(`${source}[${i}].id: expected a lowercase id like "mnist-mlp"`);
    if (typeof e.title !== 'string' || e.title === '') throw new Error(`${source}[${i}].title: expected a non-empty string`);
    if (typeof e.description !== 'string') throw new Error(`${source}[${i}].description: expected a string`);
    return { id: e.id, title: e.title, description: e.description };
  });
}

export class Examples {
  constructor(private readonly dir: string) {}

  async list(): Promise<ExampleInfo[]> {
    const file = path.join(this.dir, 'index.json');
    return parseExampleIndex(JSON.parse(await fs.readFile(file, 'utf8')), file);
  }

  async open(id: string): Promise<ProjectFile> {
    const known = await this.list();
    if (!known.some((e) => e.id === id)) throw new Error(`There is no example "${id}"`);
    const buffer = await fs.readFile(path.join(this.dir, `${id}.aps`));
    return { name: `${id}.aps`, bytes: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) };
  }
}
