/**
 * Finds a Python interpreter with PyTorch for the tests that check the engine (and the code
 * it exports) against real torch: $APS_TORCH_PYTHON when set, else /usr/bin/python3 (Debian's
 * python3-torch), else `python3` on PATH. `torch` is null when none imports torch, and
 * `torchMissing` says why, for the skip message:
 *
 *   describe(torchTitle('PyTorch parity'), () => { it.skipIf(!torch)('...', ...) })
 *
 * `runPython` runs a script (a file or `-c` source) with its arguments and returns stdout; it
 * throws with the script's stderr when it fails.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface TorchPython {
  /** The interpreter's path or command. */
  python: string;
  /** torch.__version__ */
  version: string;
  /** Whether `import safetensors` works there (the exported code does not need it). */
  hasSafetensors: boolean;
}

function probe(python: string): TorchPython | string {
  if (python.includes('/') && !existsSync(python)) return `${python} does not exist`;
  const r = spawnSync(python, ['-c', 'import torch, importlib.util as u; print(torch.__version__); print(u.find_spec("safetensors") is not None)'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) return `${python} cannot be run (${r.error.message})`;
  if (r.status !== 0) return `${python} cannot import torch (${(r.stderr || '').trim().split('\n').pop() ?? ''})`;
  const [version = '', safetensors = ''] = r.stdout.trim().split('\n');
  return { python, version: version.trim(), hasSafetensors: safetensors.trim() === 'True' };
}

function findTorch(): { torch: TorchPython | null; why: string } {
  const env = process.env.APS_TORCH_PYTHON;
  const candidates = env ? [env] : ['/usr/bin/python3', 'python3'];
  const reasons: string[] = [];
  for (const c of candidates) {
    const found = probe(c);
    if (typeof found !== 'string') return { torch: found, why: '' };
    reasons.push(found);
  }
  return {
    torch: null,
    why: `no Python with PyTorch: ${reasons.join('; ')} (install python3-torch, or set APS_TORCH_PYTHON to a python that has torch)`,
  };
}

const found = findTorch();

/** The Python with torch, or null. */
export const torch: TorchPython | null = found.torch;

/** Why `torch` is null ('' when it is found). */
export const torchMissing: string = found.why;

if (!torch) console.warn(`PyTorch tests skipped: ${torchMissing}`);

/** A describe title that says which torch runs the tests, or why they are skipped. */
export function torchTitle(title: string): string {
  return torch ? `${title} (torch ${torch.version})` : `${title} [skipped: ${torchMissing}]`;
}

/** Runs `python <args>` with the found interpreter; returns stdout, throws with stderr on failure. */
export function runPython(args: string[], opts: { cwd?: string; timeoutMs?: number; input?: string } = {}): string {
  if (!torch) throw new Error(`runPython: ${torchMissing}`);
  try {
    return execFileSync(torch.python, args, {
      cwd: opts.cwd,
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 120_000,
      input: opts.input,
      maxBuffer: 64 * 1024 * 1024,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1', OMP_NUM_THREADS: process.env.OMP_NUM_THREADS ?? '1' },
    });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`python ${args.join(' ').slice(0, 200)} failed:\n${e.stderr || e.message}`);
  }
}
