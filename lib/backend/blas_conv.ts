/**
 * 2-D convolutions (NHWC, any stride, dilation and padding) and both of their gradients as BLAS
 * matrix products, for the native CPU backend.
 *
 * The input is zero-padded and split into stride x stride phase images Q[a][b][n, i, j] =
 * x[n, i sh + a - top, j sw + b - left]. In phase coordinates every filter tap (kh, kw) reads one
 * phase at a fixed shift (u, v), so over a grid of N x Hq x Wq positions the tap's operand is Q
 * itself, read from offset (u Wq + v) rows on: one matrix product per tap with no im2col copy.
 * Grid positions outside the Ho x Wo outputs are computed and dropped (forward) or carry zero
 * gradient (backward); their share is the padding's, (Hq Wq - Ho Wo) / (Hq Wq).
 *
 * - forward: G = sum over taps of Q_tap W_tap, then the valid outputs are taken out of G;
 * - input gradient: dQ_tap += dY W_tap^T for every tap, then dx is read back out of dQ;
 * - filter gradient: dW_tap = Q_tap^T dY.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { BackendWasm } from "@tensorflow/tfjs-backend-wasm";
import type { BlasProvider } from "./blas/provider.ts";
import { heapView } from "./wasm_heap.ts";

type TensorInfo = tf.TensorInfo;
type KernelArgs = Parameters<tf.KernelFunc>[0];
type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** The phase-grid geometry of one convolution. */
interface Grid {
  info: Conv2DInfo;
  /** Grid rows and columns per image (phase coordinates). */
  hq: number;
  wq: number;
  /** Grid positions of all images. */
  positions: number;
  /** Whether the grid is the input itself (stride 1, no padding, no extra rows). */
  inputIsGrid: boolean;
  /** Whether the grid is the output itself (no extra rows or columns). */
  outputIsGrid: boolean;
}

function grid(info: Conv2DInfo): Grid {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const maxU = Math.floor((info.filterHeight - 1) * dh / sh);
  const maxV = Math.floor((info.filterWidth - 1) * dw / sw);
  const hq = Math.max(Math.ceil((top + info.inHeight) / sh), info.outHeight + maxU);
  const wq = Math.max(Math.ceil((left + info.inWidth) / sw), info.outWidth + maxV);
  return {
    info,
    hq,
    wq,
    positions: info.batchSize * hq * wq,
    inputIsGrid: sh === 1 && sw === 1 && top === 0 && left === 0 && hq === info.inHeight &&
      wq === info.inWidth,
    outputIsGrid: hq === info.outHeight && wq === info.outWidth,
  };
}

/** Which phase image a tap reads and its shift (in grid rows) within it. */
function tapOffset(g: Grid, kh: number, kw: number): { phase: number; shift: number } {
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = g.info;
  const a = (kh * dh) % sh;
  const b = (kw * dw) % sw;
  const u = Math.floor(kh * dh / sh);
  const v = Math.floor(kw * dw / sw);
  return { phase: a * sw + b, shift: u * g.wq + v };
}

/** Reusable host scratch buffers (one per role), grown on demand. */
const scratch = new Map<string, Float32Array>();
function buffer(role: string, size: number, zero: boolean): Float32Array {
  let array = scratch.get(role);
  if (!array || array.length < size) {
    array = new Float32Array(size);
    scratch.set(role, array);
    return array.subarray(0, size);
  }
  const view = array.subarray(0, size);
  if (zero) view.fill(0);
  return view;
}

/** The phase images of the padded input x (or x itself when it already is the grid). */
function phaseImages(g: Grid, x: Float32Array): Float32Array {
  if (g.inputIsGrid) return x;
  const { batchSize, inHeight, inWidth, inChannels: c, strideHeight: sh, strideWidth: sw } = g.info;
  const { top, left } = g.info.padInfo;
  const q = buffer("phases", sh * sw * g.positions * c, true);
  for (let a = 0; a < sh; a++) {
    for (let b = 0; b < sw; b++) {
      const phaseStart = (a * sw + b) * g.positions * c;
      // Grid columns j whose input column j sw + b - left lies in [0, inWidth).
      const j0 = Math.max(0, Math.ceil((left - b) / sw));
      const j1 = Math.min(g.wq, Math.ceil((inWidth + left - b) / sw));
      if (j1 <= j0) continue;
      for (let n = 0; n < batchSize; n++) {
        for (let i = 0; i < g.hq; i++) {
          const xi = i * sh + a - top;
          if (xi < 0 || xi >= inHeight) continue;
          const rowStart = ((n * inHeight + xi) * inWidth) * c;
          const target = phaseStart + ((n * g.hq + i) * g.wq) * c;
          if (sw === 1) {
            const xj = j0 + b - left;
            q.set(x.subarray(rowStart + xj * c, rowStart + (xj + j1 - j0) * c), target + j0 * c);
          } else {
            for (let j = j0; j < j1; j++) {
              const xj = j * sw + b - left;
              q.set(x.subarray(rowStart + xj * c, rowStart + (xj + 1) * c), target + j * c);
            }
          }
        }
      }
    }
  }
  return q;
}

/** dy placed on the grid (zero elsewhere), or dy itself when the output is the grid. */
function gridGradient(g: Grid, dy: Float32Array): Float32Array {
  if (g.outputIsGrid) return dy;
  const { batchSize, outHeight, outWidth, outChannels: o } = g.info;
  const out = buffer("gradient", g.positions * o, true);
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const from = ((n * outHeight + i) * outWidth) * o;
      out.set(dy.subarray(from, from + outWidth * o), ((n * g.hq + i) * g.wq) * o);
    }
  }
  return out;
}

/** Taps in order, (0, 0) first: it covers every grid position, so it can start the sums. */
function taps(info: Conv2DInfo): [number, number][] {
  const list: [number, number][] = [];
  for (let kh = 0; kh < info.filterHeight; kh++) {
    for (let kw = 0; kw < info.filterWidth; kw++) list.push([kh, kw]);
  }
  return list;
}

/** Whether the convolution has no output positions (then every gradient is zero). */
function empty(info: Conv2DInfo): boolean {
  return info.batchSize * info.outHeight * info.outWidth === 0;
}

function forward(blas: BlasProvider, g: Grid, x: Float32Array, w: Float32Array, y: Float32Array) {
  if (empty(g.info)) return;
  const { inChannels: c, outChannels: o, batchSize, outHeight, outWidth, filterWidth } = g.info;
  const q = phaseImages(g, x);
  const sums = g.outputIsGrid ? y : buffer("sums", g.positions * o, false);
  for (const [kh, kw] of taps(g.info)) {
    const { phase, shift } = tapOffset(g, kh, kw);
    const start = (phase * g.positions + shift) * c;
    blas.sgemm(
      false,
      false,
      g.positions - shift,
      o,
      c,
      1,
      q.subarray(start),
      c,
      w.subarray((kh * filterWidth + kw) * c * o),
      o,
      kh === 0 && kw === 0 ? 0 : 1,
      sums,
      o,
    );
  }
  if (sums === y) return;
  for (let n = 0; n < batchSize; n++) {
    for (let i = 0; i < outHeight; i++) {
      const from = ((n * g.hq + i) * g.wq) * o;
      y.set(sums.subarray(from, from + outWidth * o), ((n * outHeight + i) * outWidth) * o);
    }
  }
}

function inputGradient(
  blas: BlasProvider,
  g: Grid,
  dy: Float32Array,
  w: Float32Array,
  dx: Float32Array,
) {
  if (empty(g.info)) return void dx.fill(0);
  const { inChannels: c, outChannels: o, batchSize, inHeight, inWidth, filterWidth } = g.info;
  const { strideHeight: sh, strideWidth: sw } = g.info;
  const { top, left } = g.info.padInfo;
  const dyGrid = gridGradient(g, dy);
  const dq = g.inputIsGrid ? dx : buffer("phases", sh * sw * g.positions * c, true);
  for (const [kh, kw] of taps(g.info)) {
    const { phase, shift } = tapOffset(g, kh, kw);
    const start = (phase * g.positions + shift) * c;
    blas.sgemm(
      false,
      true,
      g.positions - shift,
      c,
      o,
      1,
      dyGrid,
      o,
      w.subarray((kh * filterWidth + kw) * c * o),
      o,
      // dq is only all written by tap (0, 0) when it is one phase.
      kh === 0 && kw === 0 && dq === dx ? 0 : 1,
      dq.subarray(start),
      c,
    );
  }
  if (dq === dx) return;
  for (let n = 0; n < batchSize; n++) {
    for (let xi = 0; xi < inHeight; xi++) {
      const a = (xi + top) % sh;
      const i = Math.floor((xi + top) / sh);
      for (let xj = 0; xj < inWidth; xj++) {
        const b = (xj + left) % sw;
        const j = Math.floor((xj + left) / sw);
        const from = ((a * sw + b) * g.positions + (n * g.hq + i) * g.wq + j) * c;
        if (sw === 1) {
          // One row at once: consecutive columns are consecutive grid positions.
          dx.set(
            dq.subarray(from, from + inWidth * c),
            ((n * inHeight + xi) * inWidth) * c,
          );
          break;
        }
        dx.set(dq.subarray(from, from + c), ((n * inHeight + xi) * inWidth + xj) * c);
      }
    }
  }
}

function filterGradient(
  blas: BlasProvider,
  g: Grid,
  x: Float32Array,
  dy: Float32Array,
  dw: Float32Array,
) {
  if (empty(g.info)) return void dw.fill(0);
  const { inChannels: c, outChannels: o, filterWidth } = g.info;
  const q = phaseImages(g, x);
  const dyGrid = gridGradient(g, dy);
  for (const [kh, kw] of taps(g.info)) {
    const { phase, shift } = tapOffset(g, kh, kw);
    const start = (phase * g.positions + shift) * c;
    blas.sgemm(
      true,
      false,
      c,
      o,
      g.positions - shift,
      1,
      q.subarray(start),
      c,
      dyGrid,
      o,
      0,
      dw.subarray((kh * filterWidth + kw) * c * o),
      o,
    );
  }
}

interface ConvAttrs {
  strides: number | [number, number];
  pad: "valid" | "same" | number | tf.backend_util.ExplicitPadding;
  dataFormat: "NHWC" | "NCHW";
  dilations?: number | [number, number];
  dimRoundingMode?: "floor" | "round" | "ceil";
}

function convInfo(
  xShape: number[],
  filterShape: number[],
  attrs: ConvAttrs,
): Conv2DInfo {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    "channelsLast",
  );
}

function supported(attrs: ConvAttrs, ...tensors: TensorInfo[]): boolean {
  return attrs.dataFormat !== "NCHW" && tensors.every((t) => t.dtype === "float32") &&
    tensors.every((t) => tf.util.sizeFromShape(t.shape) > 0);
}

/** Conv2D through BLAS; other cases go to `fallback`. */
export function conv2dKernel(blas: BlasProvider, fallback?: tf.KernelFunc): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (!supported(attrs, x, filter) && fallback) return fallback(args);
    const backend = args.backend as unknown as BackendWasm;
    const info = convInfo(x.shape, filter.shape, attrs);
    const out = backend.makeOutput(info.outShape, "float32");
    forward(
      blas,
      grid(info),
      heapView(backend, x),
      heapView(backend, filter),
      heapView(backend, out),
    );
    return out;
  };
}

/** Conv2DBackpropInput (the input gradient) through BLAS. */
export function conv2dInputGradientKernel(
  blas: BlasProvider,
  fallback?: tf.KernelFunc,
): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
    if (!supported(attrs, dy, filter) && fallback) return fallback(args);
    const backend = args.backend as unknown as BackendWasm;
    const info = convInfo(attrs.inputShape, filter.shape, attrs);
    const out = backend.makeOutput(attrs.inputShape, "float32");
    inputGradient(
      blas,
      grid(info),
      heapView(backend, dy),
      heapView(backend, filter),
      heapView(backend, out),
    );
    return out;
  };
}

/** Conv2DBackpropFilter (the filter gradient) through BLAS. */
export function conv2dFilterGradientKernel(
  blas: BlasProvider,
  fallback?: tf.KernelFunc,
): tf.KernelFunc {
  return (args: KernelArgs) => {
    const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
    if (!supported(attrs, x, dy)) {
      if (fallback) return fallback(args);
      throw new Error("Conv2DBackpropFilter: only float32 NHWC tensors are supported");
    }
    const backend = args.backend as unknown as BackendWasm;
    const info = convInfo(x.shape, attrs.filterShape, attrs);
    const out = backend.makeOutput(attrs.filterShape, "float32");
    filterGradient(
      blas,
      grid(info),
      heapView(backend, x),
      heapView(backend, dy),
      heapView(backend, out),
    );
    return out;
  };
}
