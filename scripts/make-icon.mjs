// Draws the app icon (a small layered network on a rounded tile) to build/icon.png.
// Pure Node: a distance-field rasteriser plus a minimal PNG encoder.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const columns = [[0.3, 0.5, 0.7], [0.22, 0.4, 0.6, 0.78], [0.5]];
const xs = [0.24, 0.5, 0.76];
const nodes = columns.flatMap((ys, c) => ys.map((y) => [xs[c] * SIZE, y * SIZE]));
const edges = [];
for (let c = 0; c + 1 < columns.length; c++) {
  for (const a of columns[c]) for (const b of columns[c + 1]) edges.push([xs[c] * SIZE, a * SIZE, xs[c + 1] * SIZE, b * SIZE]);
}

const segDist = (px, py, [x1, y1, x2, y2]) => {
  const dx = x2 - x1, dy = y2 - y1;
  const t = Math.max(0, Math.min(1, ((px - x1) * dx + (py - y1) * dy) / (dx * dx + dy * dy)));
  return Math.hypot(px - x1 - t * dx, py - y1 - t * dy);
};
const roundedBox = (px, py, r, inset) => {
  const qx = Math.abs(px - SIZE / 2) - (SIZE / 2 - inset - r);
  const qy = Math.abs(py - SIZE / 2) - (SIZE / 2 - inset - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
};
const cover = (d) => Math.max(0, Math.min(1, 0.5 - d)); // 1px anti-aliasing

const rgba = Buffer.alloc(SIZE * SIZE * 4);
for (let y = 0; y < SIZE; y++) {
  for (let x = 0; x < SIZE; x++) {
    const px = x + 0.5, py = y + 0.5;
    let r = 0, g = 0, b = 0, a = 0;
    const over = (cr, cg, cb, alpha) => {
      r = r * (1 - alpha) + cr * alpha; g = g * (1 - alpha) + cg * alpha; b = b * (1 - alpha) + cb * alpha; a = a + (1 - a) * alpha;
    };
    over(24, 32, 64, cover(roundedBox(px, py, 96, 16)));
    const edge = Math.min(...edges.map((e) => segDist(px, py, e)));
    over(120, 170, 255, 0.75 * cover(edge - 5) * cover(roundedBox(px, py, 96, 16)));
    const node = Math.min(...nodes.map(([nx, ny]) => Math.hypot(px - nx, py - ny)));
    over(255, 190, 60, cover(node - 26));
    const i = (y * SIZE + x) * 4;
    rgba[i] = a ? r : 0; rgba[i + 1] = a ? g : 0; rgba[i + 2] = a ? b : 0; rgba[i + 3] = Math.round(a * 255);
  }
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const byte of buf) c = crcTable[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};
const header = Buffer.alloc(13);
header.writeUInt32BE(SIZE, 0); header.writeUInt32BE(SIZE, 4);
header[8] = 8; header[9] = 6; // 8-bit RGBA
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) rgba.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4);
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', header),
  chunk('IDAT', deflateSync(raw, { level: 9 })),
  chunk('IEND', Buffer.alloc(0)),
]);
mkdirSync('build', { recursive: true });
writeFileSync('build/icon.png', png);
console.log(`Wrote build/icon.png (${SIZE}x${SIZE}, ${png.length} bytes)`);
