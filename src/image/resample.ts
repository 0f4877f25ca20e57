/**
 * PIL's `Image.resize`, restricted to a crop box of the output (the pixels outside it are never computed).
 *
 * A port of Pillow 9.4 `libImaging/Resample.c` (separable, antialiased convolution: the filter support is scaled by
 * the downscale factor; 8-bit images use 22-bit fixed-point coefficients with rounding and clamping to uint8 after
 * the horizontal pass and after the vertical one) and of `Geometry.c`'s `ImagingScaleAffine` (NEAREST).
 * Each output pixel depends only on its own coefficients, so computing a crop of the output gives the same bytes as
 * resizing the whole image and cropping it afterwards.
 */

/** PIL's resampling filters, numbered as in `PIL.Image.Resampling` (and `resample` in preprocessor_config.json). */
export const Resample = { NEAREST: 0, LANCZOS: 1, BILINEAR: 2, BICUBIC: 3, BOX: 4, HAMMING: 5 } as const;
/** A PIL resampling filter number (0..5). */
export type ResampleFilter = (typeof Resample)[keyof typeof Resample];

/** Fixed-point precision of 8-bit resampling: `32 - 8 - 2` bits, as in Pillow. */
export const PRECISION_BITS = 22;
const HALF = 1 << (PRECISION_BITS - 1);
const MAX_SUM = 1 << (PRECISION_BITS + 8);

/** The bicubic filter's `a` (Keys' cubic convolution, as in Pillow). */
const BICUBIC_A = -0.5;

function sinc(x: number): number {
  if (x === 0) return 1;
  x *= Math.PI;
  return Math.sin(x) / x;
}

/** Filter functions and supports, indexed by {@link ResampleFilter} (NEAREST has none). */
const FILTERS: Record<number, { fn: (x: number) => number; support: number }> = {
  [Resample.BOX]: { fn: (x) => (x > -0.5 && x <= 0.5 ? 1 : 0), support: 0.5 },
  [Resample.BILINEAR]: { fn: (x) => (x < 0 && (x = -x), x < 1 ? 1 - x : 0), support: 1 },
  [Resample.HAMMING]: {
    fn: (x) => {
      if (x < 0) x = -x;
      if (x === 0) return 1;
      if (x >= 1) return 0;
      x *= Math.PI;
      return (Math.sin(x) / x) * (0.54 + 0.46 * Math.cos(x));
    },
    support: 1,
  },
  [Resample.BICUBIC]: {
    fn: (x) => {
      const a = BICUBIC_A;
      if (x < 0) x = -x;
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
    support: 2,
  },
  [Resample.LANCZOS]: { fn: (x) => (-3 <= x && x < 3 ? sinc(x) * sinc(x / 3) : 0), support: 3 },
};

/** The convolution weights of one resampling axis (Pillow's `precompute_coeffs`). */
export interface Coefficients {
  /** Weights a tap: `ksize` slots for each output index. */
  ksize: number;
  /** `[first source index, number of taps]` for each output index. */
  bounds: Int32Array;
  /** The weights as doubles (used for 32-bit images), `outSize × ksize`. */
  weights: Float64Array;
  /** The weights in 22-bit fixed point (Pillow's `normalize_coeffs_8bpc`), `outSize × ksize`. */
  fixed: Int32Array;
}

const cache = new Map<string, Coefficients>();
/** Coefficient sets kept; the oldest is dropped beyond this. */
const CACHE_SIZE = 256;

/**
 * The weights to resample `inSize` samples to `outSize`, cached per (filter, in, out).
 * @example
 * ```ts
 * import { coefficients, Resample } from "./resample.ts";
 * const c = coefficients(256, 224, Resample.BICUBIC);
 * [c.ksize, c.bounds[0], c.bounds[1]]; // → [7, 0, 3]
 * ```
 */
export function coefficients(inSize: number, outSize: number, filter: ResampleFilter): Coefficients {
  const key = `${filter}:${inSize}:${outSize}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const { fn, support: baseSupport } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = scale < 1 ? 1 : scale;
  const support = baseSupport * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Float64Array(outSize * ksize);
  const fixed = new Int32Array(outSize * ksize);
  const ss = 1 / filterscale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    let xmin = Math.trunc(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    let xmax = Math.trunc(center + support + 0.5);
    if (xmax > inSize) xmax = inSize;
    xmax -= xmin;
    const k = xx * ksize;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = fn((x + xmin - center + 0.5) * ss);
      weights[k + x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      if (ww !== 0) weights[k + x] /= ww;
      const w = weights[k + x];
      fixed[k + x] = w < 0
        ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS))
        : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  const c = { ksize, bounds, weights, fixed };
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(key, c);
  return c;
}

/** A rectangle of the resized image: `left`/`top` may be negative and the box may pass the edges (zero padding). */
export interface CropBox {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * Pillow's `clip8`: a fixed-point sum to 0..255. (The hot loops store `sum >> 22` into a `Uint8ClampedArray`
 * instead, which is the same for the sums that can occur, |sum| < 2^31.)
 */
export function clip8(ss: number): number {
  if (ss >= MAX_SUM) return 255;
  if (ss <= 0) return 0;
  return ss >> PRECISION_BITS;
}

/**
 * Resizes 8-bit interleaved pixels (`channels` a pixel) from `inW×inH` to `outW×outH` with a PIL filter and returns
 * only `box` of the result (`box.width × box.height × channels`, zeros where the box passes the image edge).
 * @example
 * ```ts
 * import { Resample, resizeCrop } from "./resample.ts";
 * const rgb = new Uint8Array(256 * 256 * 3); // [256, 256, 3]
 * resizeCrop(rgb, 3, 256, 256, 224, 224, { left: 0, top: 0, width: 224, height: 224 }, Resample.BICUBIC).length
 * // → 150528
 * ```
 */
export function resizeCrop(
  src: Uint8Array,
  channels: number,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  box: CropBox,
  filter: ResampleFilter,
): Uint8Array {
  const out = new Uint8Array(box.width * box.height * channels);
  // The part of the box that lies inside the resized image.
  const x0 = Math.max(0, box.left), x1 = Math.min(outW, box.left + box.width);
  const y0 = Math.max(0, box.top), y1 = Math.min(outH, box.top + box.height);
  if (x1 <= x0 || y1 <= y0) return out;
  const cw = x1 - x0, chh = y1 - y0;
  let region: Uint8Array; // [chh, cw, channels] uint8
  if (inW === outW && inH === outH) region = copyRegion(src, channels, inW, x0, y0, cw, chh);
  else if (filter === Resample.NEAREST) {
    region = nearest(src, channels, inW, inH, outW, outH, x0, y0, cw, chh);
  } else region = convolve(src, channels, inW, inH, outW, outH, x0, y0, cw, chh, filter);
  if (cw === box.width && chh === box.height) return region;
  const rowBytes = cw * channels;
  for (let y = 0; y < chh; y++) {
    const at = ((y0 - box.top + y) * box.width + (x0 - box.left)) * channels;
    out.set(region.subarray(y * rowBytes, (y + 1) * rowBytes), at);
  }
  return out;
}

function copyRegion(
  src: Uint8Array,
  ch: number,
  inW: number,
  x0: number,
  y0: number,
  cw: number,
  chh: number,
) {
  const out = new Uint8Array(cw * chh * ch);
  for (let y = 0; y < chh; y++) {
    const s = ((y0 + y) * inW + x0) * ch;
    out.set(src.subarray(s, s + cw * ch), y * cw * ch);
  }
  return out;
}

/** Pillow's `ImagingScaleAffine`: source index = trunc(in/out · 0.5 + i · in/out), accumulated in doubles. */
function nearestTable(inSize: number, outSize: number): Int32Array {
  const table = new Int32Array(outSize);
  const step = inSize / outSize;
  let pos = step * 0.5;
  for (let i = 0; i < outSize; i++) {
    table[i] = Math.min(inSize - 1, pos < 0 ? 0 : Math.trunc(pos));
    pos += step;
  }
  return table;
}

function nearest(
  src: Uint8Array,
  ch: number,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  x0: number,
  y0: number,
  cw: number,
  chh: number,
): Uint8Array {
  const xs = nearestTable(inW, outW), ys = nearestTable(inH, outH);
  const out = new Uint8Array(cw * chh * ch);
  let o = 0;
  for (let y = 0; y < chh; y++) {
    const row = ys[y0 + y] * inW;
    for (let x = 0; x < cw; x++) {
      const s = (row + xs[x0 + x]) * ch;
      for (let c = 0; c < ch; c++) out[o++] = src[s + c];
    }
  }
  return out;
}

function convolve(
  src: Uint8Array,
  ch: number,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  x0: number,
  y0: number,
  cw: number,
  chh: number,
  filter: ResampleFilter,
): Uint8Array {
  const needH = inW !== outW, needV = inH !== outH;
  const horiz = coefficients(inW, outW, filter);
  const vert = coefficients(inH, outH, filter);
  // Source rows the vertical pass reads for output rows y0..y1 (all rows from first to last, as Pillow does).
  const first = needV ? vert.bounds[y0 * 2] : y0;
  const last = needV ? vert.bounds[(y0 + chh - 1) * 2] + vert.bounds[(y0 + chh - 1) * 2 + 1] : y0 + chh;
  const rows = last - first;
  // Horizontal pass: [rows, cw, ch] uint8, or the source columns x0..x1 when the width is unchanged.
  const temp = needH
    ? horizontalPass(src, ch, inW, first, rows, x0, cw, horiz)
    : copyRegion(src, ch, inW, x0, first, cw, rows);
  if (!needV) return temp;
  // Vertical pass: [chh, cw, ch] uint8, a row at a time (sequential memory, one accumulator a byte).
  const out = new Uint8Array(chh * cw * ch);
  const clamped = new Uint8ClampedArray(out.buffer); // storing (sum >> 22) clamps to 0..255, as clip8 does
  const { ksize, bounds, fixed } = vert;
  const rowBytes = cw * ch;
  const acc = new Float64Array(rowBytes);
  for (let y = 0; y < chh; y++) {
    const yy = y0 + y;
    const ymin = bounds[yy * 2] - first, n = bounds[yy * 2 + 1];
    const k = yy * ksize;
    acc.fill(HALF);
    for (let j = 0; j < n; j++) {
      const w = fixed[k + j];
      if (w === 0) continue;
      const row = (ymin + j) * rowBytes;
      for (let i = 0; i < rowBytes; i++) acc[i] += temp[row + i] * w;
    }
    const o = y * rowBytes;
    for (let i = 0; i < rowBytes; i++) clamped[o + i] = acc[i] >> PRECISION_BITS;
  }
  return out;
}

/** Pillow's `ImagingResampleHorizontal_8bpc` for source rows first..first+rows and output columns x0..x0+cw. */
function horizontalPass(
  src: Uint8Array,
  ch: number,
  inW: number,
  first: number,
  rows: number,
  x0: number,
  cw: number,
  coeffs: Coefficients,
): Uint8Array {
  const temp = new Uint8Array(rows * cw * ch);
  const t = new Uint8ClampedArray(temp.buffer); // storing (sum >> 22) clamps to 0..255, as clip8 does
  const { ksize, bounds, fixed } = coeffs;
  const B = PRECISION_BITS;
  let o = 0;
  for (let y = 0; y < rows; y++) {
    const rowStart = (first + y) * inW * ch;
    for (let x = 0; x < cw; x++) {
      const xx = x0 + x;
      const n = bounds[xx * 2 + 1], k = xx * ksize;
      let p = rowStart + bounds[xx * 2] * ch;
      if (ch === 3) {
        let s0 = HALF, s1 = HALF, s2 = HALF;
        for (let i = 0; i < n; i++, p += 3) {
          const w = fixed[k + i];
          s0 += src[p] * w;
          s1 += src[p + 1] * w;
          s2 += src[p + 2] * w;
        }
        t[o] = s0 >> B;
        t[o + 1] = s1 >> B;
        t[o + 2] = s2 >> B;
        o += 3;
      } else if (ch === 1) {
        let s0 = HALF;
        for (let i = 0; i < n; i++, p++) s0 += src[p] * fixed[k + i];
        t[o++] = s0 >> B;
      } else if (ch === 4) {
        let s0 = HALF, s1 = HALF, s2 = HALF, s3 = HALF;
        for (let i = 0; i < n; i++, p += 4) {
          const w = fixed[k + i];
          s0 += src[p] * w;
          s1 += src[p + 1] * w;
          s2 += src[p + 2] * w;
          s3 += src[p + 3] * w;
        }
        t[o] = s0 >> B;
        t[o + 1] = s1 >> B;
        t[o + 2] = s2 >> B;
        t[o + 3] = s3 >> B;
        o += 4;
      } else {
        for (let c = 0; c < ch; c++) {
          let ss = HALF;
          for (let i = 0, q = p + c; i < n; i++, q += ch) ss += src[q] * fixed[k + i];
          t[o++] = ss >> B;
        }
      }
    }
  }
  return temp;
}

/**
 * The same resize for 32-bit integer samples (PIL mode `I`): double weights, `ROUND_UP` after each pass, no clamp.
 * @example
 * ```ts
 * import { Resample, resizeCropInt32 } from "./resample.ts";
 * resizeCropInt32(new Int32Array([0, 1000]), 2, 1, 1, 1, { left: 0, top: 0, width: 1, height: 1 }, Resample.BICUBIC)
 * // → Int32Array [500]
 * ```
 */
export function resizeCropInt32(
  src: Int32Array,
  inW: number,
  inH: number,
  outW: number,
  outH: number,
  box: CropBox,
  filter: ResampleFilter,
): Int32Array {
  const out = new Int32Array(box.width * box.height);
  const x0 = Math.max(0, box.left), x1 = Math.min(outW, box.left + box.width);
  const y0 = Math.max(0, box.top), y1 = Math.min(outH, box.top + box.height);
  if (x1 <= x0 || y1 <= y0) return out;
  const cw = x1 - x0, chh = y1 - y0;
  const roundUp = (f: number) => Math.trunc(f >= 0 ? f + 0.5 : f - 0.5); // Pillow's ROUND_UP
  let region: Int32Array; // [chh, cw]
  if ((inW === outW && inH === outH) || filter === Resample.NEAREST) {
    const xs = inW === outW ? null : nearestTable(inW, outW),
      ys = inH === outH ? null : nearestTable(inH, outH);
    region = new Int32Array(cw * chh);
    for (let y = 0; y < chh; y++) {
      const row = (ys ? ys[y0 + y] : y0 + y) * inW;
      for (let x = 0; x < cw; x++) region[y * cw + x] = src[row + (xs ? xs[x0 + x] : x0 + x)];
    }
  } else {
    const needH = inW !== outW, needV = inH !== outH;
    const h = coefficients(inW, outW, filter), v = coefficients(inH, outH, filter);
    const first = needV ? v.bounds[y0 * 2] : y0;
    const last = needV ? v.bounds[(y1 - 1) * 2] + v.bounds[(y1 - 1) * 2 + 1] : y1;
    // Horizontal pass over source rows first..last: [last - first, cw]
    const temp = new Int32Array((last - first) * cw);
    for (let y = first; y < last; y++) {
      for (let x = 0; x < cw; x++) {
        const xx = x0 + x;
        if (!needH) {
          temp[(y - first) * cw + x] = src[y * inW + xx];
          continue;
        }
        const xmin = h.bounds[xx * 2], n = h.bounds[xx * 2 + 1], k = xx * h.ksize;
        let ss = 0;
        for (let i = 0; i < n; i++) ss += src[y * inW + xmin + i] * h.weights[k + i];
        temp[(y - first) * cw + x] = roundUp(ss);
      }
    }
    if (!needV) region = temp;
    else {
      // Vertical pass: [chh, cw]
      region = new Int32Array(chh * cw);
      for (let y = 0; y < chh; y++) {
        const yy = y0 + y;
        const ymin = v.bounds[yy * 2] - first, n = v.bounds[yy * 2 + 1], k = yy * v.ksize;
        for (let x = 0; x < cw; x++) {
          let ss = 0;
          for (let j = 0; j < n; j++) ss += temp[(ymin + j) * cw + x] * v.weights[k + j];
          region[y * cw + x] = roundUp(ss);
        }
      }
    }
  }
  for (let y = 0; y < chh; y++) {
    out.set(region.subarray(y * cw, (y + 1) * cw), (y0 - box.top + y) * box.width + (x0 - box.left));
  }
  return out;
}
