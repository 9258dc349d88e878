import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readProject, writeProject } from '../../io/project.ts';
import { readSafetensors } from '../../io/safetensors.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, type Io, main } from '../main.ts';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const example = path.join(root, 'examples', 'mlp-spirals.aps');
const dir = mkdtempSync(path.join(tmpdir(), 'aps-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`), isTTY: false };
  const code = await main(argv, io);
  return { code, out, err };
}

/** A small copy of the spirals example: fewer samples and epochs. */
function smallProject(name: string, training: Record<string, unknown> = {}): string {
  const p = readProject(new Uint8Array(readFileSync(example)));
  const file = path.join(dir, name);
  writeFileSync(
    file,
    writeProject({
      ...p,
      data: { ...p.data, source: { kind: 'builtin', id: 'spirals', options: { samples: 200 } } },
      training: { ...p.training, epochs: 3, ...training },
    }),
  );
  return file;
}

describe('aps usage', () => {
  it('prints help for the tool and every command', async () => {
    expect((await run('--help')).out).toMatch(/Commands:\n\s+validate FILE/);
    for (const command of ['validate', 'train', 'evaluate', 'export', 'bench']) {
      const r = await run(command, '--help');
      expect(r.code).toBe(EXIT_OK);
      expect(r.out).toMatch(new RegExp(`Usage: aps ${command}`));
    }
  });

  it('exits 2 on bad usage with a message naming the problem', async () => {
    expect((await run()).code).toBe(EXIT_USAGE);
    const unknown = await run('fly');
    expect(unknown.code).toBe(EXIT_USAGE);
    expect(unknown.err).toMatch(/Unknown command "fly"/);
    const option = await run('validate', example, '--colour');
    expect(option.code).toBe(EXIT_USAGE);
    expect(option.err).toMatch(/Unknown option --colour/);
    expect((await run('train', example, '--epochs', 'many')).err).toMatch(/--epochs must be a whole number of at least 1, got "many"/);
    expect((await run('export', example, '--format', 'h5', '--out', 'x')).err).toMatch(/--format must be safetensors, onnx or pytorch/);
    expect((await run('validate')).err).toMatch(/takes one project file, got 0/);
  });
});

describe('aps validate', () => {
  it('lists every layer with its output shape', async () => {
    const r = await run('validate', example);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/fc1 .*\[N, 32\]\s+96/);
    expect(r.out).toMatch(/valid$/m);
  });

  it('exits 1 with the problems of an invalid model', async () => {
    const p = readProject(new Uint8Array(readFileSync(example)));
    const file = path.join(dir, 'broken.aps');
    writeFileSync(file, writeProject({ ...p, graph: { nodes: p.graph.nodes, edges: p.graph.edges.filter((e) => e.target !== 'fc2') } }));
    const r = await run('validate', file);
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.err).toMatch(/problem/);
    expect(r.err).toMatch(/fc2/);
  });

  it('exits 1 on a damaged file and a missing file', async () => {
    const file = path.join(dir, 'damaged.aps');
    writeFileSync(file, readFileSync(example).subarray(0, 200));
    const r = await run('validate', file);
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.err).toMatch(/Not a valid project archive/);
    expect((await run('validate', path.join(dir, 'nope.aps'))).err).toMatch(/no such file/);
  });
});

describe('aps train, evaluate and export', () => {
  const file = smallProject('spirals.aps');
  const trained = path.join(dir, 'trained.aps');

  it('--backend takes cpu, gpu or gpu:<mode> and names the choices otherwise', async () => {
    const r = await run('train', file, '--epochs', '1', '--backend', 'gpu:cuda');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.err).toContain('--backend must be cpu, gpu or gpu:<mode> with mode one of webgpu, webgl2, webgl, headlessgl, webasm, cpu; got "gpu:cuda"');
  });

  it('trains with JSON lines and saves weights and history into the output project', async () => {
    const r = await run('train', file, '--epochs', '2', '--json', '--out', trained);
    expect(r.code).toBe(EXIT_OK);
    const events = r.out.trim().split('\n').map((l) => JSON.parse(l) as { type: string; epoch?: number; status?: string });
    expect(events.filter((e) => e.type === 'epoch').map((e) => e.epoch)).toEqual([1, 2]);
    expect(events.some((e) => e.type === 'step')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'done', status: 'completed' });
    const p = readProject(new Uint8Array(readFileSync(trained)));
    expect([...p.weights!.tensors.keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias', 'out.weight', 'out.bias']);
    expect(p.history!.runs).toHaveLength(1);
    expect(p.history!.runs[0]!.epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(p.history!.runs[0]!.epochs[1]!.metrics.loss).toBeGreaterThan(0);
    // The run records the settings it trained with, for the Results panel of a later session.
    expect((p.history!.runs[0]!.settings!.training as { epochs: number }).epochs).toBe(2);
    expect((p.history!.runs[0]!.settings!.data as { source: { kind: string } }).source.kind).toBe('builtin');
    // The input file is untouched.
    expect(readProject(new Uint8Array(readFileSync(file))).weights).toBeUndefined();
  });

  it('continues from the saved weights and appends to the history', async () => {
    const again = await run('train', trained, '--epochs', '1');
    expect(again.code).toBe(EXIT_OK);
    expect(again.out).toMatch(/epoch 1\/1: train loss/);
    expect(readProject(new Uint8Array(readFileSync(trained))).history!.runs).toHaveLength(2);
  });

  it('evaluates with a confusion matrix', async () => {
    const r = await run('evaluate', trained);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/test split, \d+ samples/);
    expect(r.out).toMatch(/confusion matrix \(rows: actual, columns: predicted\)/);
    const json = JSON.parse((await run('evaluate', trained, '--json')).out) as { confusion: number[][]; samples: number };
    expect(json.confusion.flat().reduce((a, b) => a + b, 0)).toBe(json.samples);
    expect((await run('evaluate', file)).err).toMatch(/has no trained weights/);
  });

  it('exports safetensors, ONNX and PyTorch code', async () => {
    const st = path.join(dir, 'w.safetensors');
    expect((await run('export', trained, '--format', 'safetensors', '--out', st)).code).toBe(EXIT_OK);
    const weights = readSafetensors(new Uint8Array(readFileSync(st)));
    expect(weights.tensors.get('fc1.weight')!.shape).toEqual([32, 2]);
    const onnx = path.join(dir, 'm.onnx');
    const r = await run('export', trained, '--format', 'onnx', '--out', onnx);
    expect(r.code).toBe(EXIT_OK);
    expect(r.out).toMatch(/inputs: points \[N, 2\]; outputs: out \[N, 2\]/);
    expect(existsSync(onnx)).toBe(true);
    const py = path.join(dir, 'torch');
    expect((await run('export', trained, '--format', 'pytorch', '--out', py, '--data')).code).toBe(EXIT_OK);
    expect(readFileSync(path.join(py, 'model.py'), 'utf8')).toMatch(/class Model\(nn\.Module\)/);
    expect(readFileSync(path.join(py, 'train.py'), 'utf8')).toMatch(/DistributedDataParallel/);
    const data = readSafetensors(new Uint8Array(readFileSync(path.join(py, 'data.safetensors'))));
    expect(data.tensors.get('train.points')!.shape[1]).toBe(2);
    expect(data.tensors.get('train.label')!.dtype).toBe('I64');
  });

  it('exits 1 when training diverges', async () => {
    const wild = smallProject('wild.aps', { optimizer: { type: 'sgd', lr: 3e38, momentum: 0, nesterov: false, weightDecay: 0, betas: [0.9, 0.999], eps: 1e-8, alpha: 0.99 } });
    const r = await run('train', wild, '--out', path.join(dir, 'wild-out.aps'));
    expect(r.code).toBe(EXIT_FAILED);
    expect(r.out + r.err).toMatch(/diverged/);
  });
});
