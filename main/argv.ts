import path from 'node:path';

/** The first command-line argument naming an .aps file, resolved against `cwd`. */
export function projectPathFromArgv(argv: readonly string[], cwd: string): string | null {
  // argv[0] is the executable; in development argv[1] is the app folder.
  for (const arg of argv.slice(1)) {
    if (!arg.startsWith('-') && arg.toLowerCase().endsWith('.aps')) return path.resolve(cwd, arg);
  }
  return null;
}
