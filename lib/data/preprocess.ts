/**
 * Image preprocessing exactly as the reference's torchvision pipeline (docs/reference.md#data):
 * bilinear resize of the 8-bit image (Pillow's algorithm, fixed-point and rounded to 8 bits after
 * each pass), channels replicated for grayscale, scaled to [0, 1], normalized per channel.
 *
 * @module
 */

/** Per-channel normalization constants. */
export interface Normalization {
  mean: number[];
  std: number[];
}

/** MNIST and Fashion-MNIST: one mean and std applied to the replicated channels. */
export const MNIST_NORMALIZATION: Normalization = {
  mean: [0.1307, 0.1307, 0.1307],
  std: [0.3081, 0.3081, 0.3081],
};

// Pillow's fixed-point precision for 8-bit resampling (libImaging/Resample.c).
const PRECISION_BITS = 32 - 8 - 2;

/** Pillow's bilinear ("triangle") coefficients for resizing `inSize` samples to `outSize`. */
function bilinearCoefficients(inSize: number, outSize: number) {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const taps: { start: number; weights: Int32Array }[] = [];
  for (let out = 0; out < outSize; out++) {
    const center = (out + 0.5) * scale;
    const start = Math.max(Math.trunc(center - support + 0.5), 0);
    const end = Math.min(Math.trunc(center + support + 0.5), inSize);
    const raw: number[] = [];
    for (let x = start; x < end; x++) {
      const distance = Math.abs((x - center + 0.5) / filterScale);
      raw.push(distance < 1 ? 1 - distance : 0);
    }
    const total = raw.reduce((a, b) => a + b, 0);
    const weights = Int32Array.from(raw, (w) => {
      const scaled = (w / total) * (1 << PRECISION_BITS);
      return Math.trunc(scaled < 0 ? scaled - 0.5 : scaled + 0.5);
    });
    taps.push({ start, weights });
  }
  return taps;
}

function clip8(value: number): number {
  const shifted = Math.floor(value / (1 << PRECISION_BITS));
  return shifted < 0 ? 0 : shifted > 255 ? 255 : shifted;
}

/**
 * Resize one 8-bit grayscale image with Pillow's bilinear filter (horizontal pass, then
 * vertical, each rounded to 8 bits) — what `transforms.Resize` does to a PIL image.
 *
 * @example
 * ```ts
 * const out = resizeBilinear(new Uint8Array(28 * 28), 28, 28, 32, 32); // 32*32 bytes
 * ```
 */
export function resizeBilinear(
  image: Uint8Array,
  inHeight: number,
  inWidth: number,
  outHeight: number,
  outWidth: number,
): Uint8Array {
  const half = 1 << (PRECISION_BITS - 1);
  const horizontal = bilinearCoefficients(inWidth, outWidth);
  const vertical = bilinearCoefficients(inHeight, outHeight);
  const wide = new Uint8Array(inHeight * outWidth);
  for (let y = 0; y < inHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const { start, weights } = horizontal[x];
      let sum = half;
      for (let k = 0; k < weights.length; k++) sum += image[y * inWidth + start + k] * weights[k];
      wide[y * outWidth + x] = clip8(sum);
    }
  }
  const out = new Uint8Array(outHeight * outWidth);
  for (let y = 0; y < outHeight; y++) {
    const { start, weights } = vertical[y];
    for (let x = 0; x < outWidth; x++) {
      let sum = half;
      for (let k = 0; k < weights.length; k++) sum += wide[(start + k) * outWidth + x] * weights[k];
      out[y * outWidth + x] = clip8(sum);
    }
  }
  return out;
}

/**
 * Grayscale images (n x h x w bytes) to normalized 3 x size x size float inputs, flattened in
 * channel-major order as torch flattens a 3 x 32 x 32 tensor.
 *
 * @example
 * ```ts
 * declare const images: Uint8Array, count: number;
 * const x = grayscaleToInputs(images, count, 28, 28, 32, MNIST_NORMALIZATION); // count*3072
 * ```
 */
export function grayscaleToInputs(
  images: Uint8Array,
  count: number,
  height: number,
  width: number,
  size: number,
  normalization: Normalization,
): Float32Array {
  if (height === size && width === size) {
    return normalizePixels(images, count, 1, size, normalization);
  }
  const plane = size * size;
  const resized = new Uint8Array(count * plane);
  for (let i = 0; i < count; i++) {
    const source = images.subarray(i * height * width, (i + 1) * height * width);
    resized.set(resizeBilinear(source, height, width, size, size), i * plane);
  }
  return normalizePixels(resized, count, 1, size, normalization);
}

/**
 * 8-bit images (n x channels x size x size, channels 1 or 3) to normalized float inputs
 * (n x 3 x size x size, channel-major): v / 255, minus the channel mean, over the channel std.
 * One-channel images are replicated to 3 channels, as `transforms.Grayscale(3)` does.
 *
 * @example
 * ```ts
 * declare const pixels: Uint8Array, count: number;
 * const x = normalizePixels(pixels, count, 1, 32, MNIST_NORMALIZATION); // count * 3072 floats
 * ```
 */
export function normalizePixels(
  pixels: Uint8Array,
  count: number,
  channels: number,
  size: number,
  normalization: Normalization,
): Float32Array {
  const plane = size * size;
  const out = new Float32Array(count * 3 * plane);
  // 256-entry lookup per channel: every input is one of 256 byte values.
  const lookup = normalization.mean.map((mean, c) =>
    Float32Array.from({ length: 256 }, (_, v) => (v / 255 - mean) / normalization.std[c])
  );
  for (let i = 0; i < count; i++) {
    for (let c = 0; c < 3; c++) {
      const from = (i * channels + (channels === 1 ? 0 : c)) * plane;
      const to = (i * 3 + c) * plane;
      const table = lookup[c];
      for (let p = 0; p < plane; p++) out[to + p] = table[pixels[from + p]];
    }
  }
  return out;
}
