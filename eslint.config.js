// Lint, including the layering rules that keep each folder to where its code runs:
// engine/ uses no DOM, Electron or Node built-ins outside Node-only files, the
// renderer imports main/ for types only, and nothing imports upward.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...new Set(builtinModules.flatMap((m) => [m, `${m}/*`, `node:${m}`, `node:${m}/*`]))];
const NODE_ONLY_ENGINE = ['engine/**/*.node.ts', 'engine/cli/**', 'engine/bench/**'];
// Engine tests run under Vitest in Node and may use Node built-ins (fixtures, temp files).
const ENGINE_TESTS = ['engine/**/*.test.ts', 'engine/**/__tests__/**'];

const noNode = { group: nodeBuiltins, message: 'Node built-ins are only allowed in Node-only engine files (*.node.ts, engine/cli/**, engine/bench/**).' };
const noElectron = { group: ['electron', 'electron/*'], message: 'Only main/ may use Electron.' };
const noUi = { group: ['react', 'react-dom', 'react-dom/*', '@xyflow/*', 'd3', 'd3-*'], message: 'The engine has no UI dependencies.' };
const noUpward = (from) => ({ group: ['**/main/**', '**/renderer/**', '**/e2e/**'], message: `${from} must not import main/, renderer/ or e2e/ code.` });

const engineDomGlobals = ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'HTMLElement', 'requestAnimationFrame'].map((name) => ({
  name,
  message: 'The engine runs without a DOM (in workers and in Node).',
}));
const nodeGlobals = ['process', 'require', 'Buffer', '__dirname', '__filename', 'global'].map((name) => ({
  name,
  message: 'Node globals are only allowed in Node-only engine files (*.node.ts, engine/cli/**, engine/bench/**).',
}));

export default tseslint.config(
  { ignores: ['dist/**', 'release/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'out/**'] },
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2023, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },
  {
    files: ['engine/**/*.ts'],
    ignores: [...NODE_ONLY_ENGINE, ...ENGINE_TESTS],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [noNode, noElectron, noUi, noUpward('engine/')] }],
      'no-restricted-globals': ['error', ...engineDomGlobals, ...nodeGlobals],
    },
  },
  {
    files: [...NODE_ONLY_ENGINE, ...ENGINE_TESTS],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [noElectron, noUi, noUpward('engine/')] }],
      'no-restricted-globals': ['error', ...engineDomGlobals],
    },
  },
  {
    files: ['renderer/**/*.{ts,tsx}'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['**/main/**'], allowTypeImports: true, message: 'The renderer may import only types from main/ (use "import type" from main/api).' },
            { group: ['**/e2e/**'], message: 'The renderer must not import tests.' },
            { ...noNode, message: 'The renderer has no Node built-ins; go through HostApi.' },
            { ...noElectron, message: 'The renderer reaches Electron only through HostApi (window.apsHost).' },
          ],
        },
      ],
    },
  },
  {
    files: ['main/**/*.ts'],
    ignores: ['main/preload.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { patterns: [{ group: ['**/renderer/**', '**/e2e/**'], message: 'main/ must not import renderer/ or e2e/ code.' }] }],
    },
  },
  {
    files: ['main/preload.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ ...noNode, message: 'The sandboxed preload can load only electron.' }, { group: ['**/renderer/**'], message: 'The preload must not import renderer code.' }] },
      ],
    },
  },
);
