// Draws the app icon (resources/icon.png, 512x512 RGBA) from simple shapes: a gate arch with a
// portcullis on the console's dark background. Same drawing as resources/icon.svg. Run it after changing
// the shapes: `node scripts/make-icon.mjs`. No image library needed: shapes are tested per sub-pixel
// (4x4 supersampling) and written as a PNG with zlib.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';

const SIZE = 512;
const BG = [15, 20, 25];
const ACCENT = [79, 179, 255];
const BARS = ACCENT.map((v, i) => Math.round(v * 0.55 + BG[i] * 0.45)); // accent at 55% over the background

const inRoundRect = (x, y, x0, y0, x1, y1, r) => {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
};
// An arch: a half disc of radius r centred at (cx, top + r) on a rectangle down to `bottom`.
const inArch = (x, y, cx, top, r, bottom) => y <= bottom && (y >= top + r ? Math.abs(x - cx) <= r : (x - cx) ** 2 + (y - top - r) ** 2 <= r * r);

/** The colour (RGB) of one point of the icon, or null outside it. */
function paint(x, y) {
  if (!inRoundRect(x, y, 16, 16, 496, 496, 104)) return null;
  const door = inArch(x, y, 256, 196, 68, 400);
  if (inArch(x, y, 256, 120, 132, 400) && !door) return ACCENT;
  if (inRoundRect(x, y, 92, 400, 420, 428, 8)) return ACCENT;
  if (door) {
    const bar = [216, 256, 296].some((bx) => Math.abs(x - bx) <= 7) || [264, 332].some((by) => Math.abs(y - by) <= 7);
    if (bar) return BARS;
  }
  return BG;
}

const rgba = Buffer.alloc(SIZE * SIZE * 4);
const SS = 4;
for (let py = 0; py < SIZE; py++) {
  for (let px = 0; px < SIZE; px++) {
    let r = 0, g = 0, b = 0, a = 0;
    for (let sy = 0; sy < SS; sy++) {
      for (let sx = 0; sx < SS; sx++) {
        const c = paint(px + (sx + 0.5) / SS, py + (sy + 0.5) / SS);
        if (!c) continue;
        r += c[0]; g += c[1]; b += c[2]; a += 1;
      }
    }
    const o = (py * SIZE + px) * 4;
    if (a > 0) {
      rgba[o] = Math.round(r / a);
      rgba[o + 1] = Math.round(g / a);
      rgba[o + 2] = Math.round(b / a);
    }
    rgba[o + 3] = Math.round((a / (SS * SS)) * 255);
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
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(SIZE, 0);
ihdr.writeUInt32BE(SIZE, 4);
ihdr[8] = 8; // bit depth
ihdr[9] = 6; // colour type RGBA
const raw = Buffer.alloc(SIZE * (SIZE * 4 + 1));
for (let y = 0; y < SIZE; y++) rgba.copy(raw, y * (SIZE * 4 + 1) + 1, y * SIZE * 4, (y + 1) * SIZE * 4); // filter byte 0
const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);

const out = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'resources/icon.png');
writeFileSync(out, png);
console.log(`wrote ${out} (${SIZE}x${SIZE}, ${png.length} bytes)`);
