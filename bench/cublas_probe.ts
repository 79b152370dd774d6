/**
 * Can Deno drive cuBLAS directly, and how fast? The measured evidence for a CUDA path behind
 * lib/backend's BLAS provider seam: load the CUDA runtime and cuBLAS through FFI, check one small
 * product against a float64 product on the host, then time the paper MLP's layer product
 * (batch 16, width 2048) and a 4096-square product, each as a loop of calls closed by one
 * device synchronisation, and the round trip of a single call plus synchronisation.
 *
 *   deno run --allow-ffi --allow-read --allow-write bench/cublas_probe.ts \
 *     --cudart /usr/local/cuda/lib64/libcudart.so.13 --cublas /usr/local/cuda/lib64/libcublas.so.13
 *
 * Prints one JSON object (`--out FILE` also writes it). Needs an NVIDIA GPU: nothing in the test
 * suite runs it.
 *
 * @module
 */
import { UsageError } from "../lib/config/flags.ts";
import { runCli } from "../cli/common.ts";

const CUDA_MEMCPY_HOST_TO_DEVICE = 1;
const CUDA_MEMCPY_DEVICE_TO_HOST = 2;
const CUBLAS_OP_N = 0;

function openCuda(cudartPath: string, cublasPath: string) {
  const cudart = Deno.dlopen(cudartPath, {
    cudaMalloc: { parameters: ["buffer", "usize"], result: "i32" },
    cudaFree: { parameters: ["pointer"], result: "i32" },
    cudaMemcpy: { parameters: ["pointer", "pointer", "usize", "i32"], result: "i32" },
    cudaDeviceSynchronize: { parameters: [], result: "i32" },
  });
  const cublas = Deno.dlopen(cublasPath, {
    cublasCreate_v2: { parameters: ["buffer"], result: "i32" },
    cublasDestroy_v2: { parameters: ["pointer"], result: "i32" },
    cublasSgemm_v2: {
      parameters: [
        "pointer", // handle
        "i32", // transa
        "i32", // transb
        "i32", // m
        "i32", // n
        "i32", // k
        "buffer", // alpha (host)
        "pointer", // A
        "i32", // lda
        "pointer", // B
        "i32", // ldb
        "buffer", // beta (host)
        "pointer", // C
        "i32", // ldc
      ],
      result: "i32",
    },
  });
  return {
    cudart: cudart.symbols,
    cublas: cublas.symbols,
    close: () => {
      cublas.close();
      cudart.close();
    },
  };
}

function check(what: string, status: number): void {
  if (status !== 0) throw new Error(`${what} failed with status ${status}`);
}

/**
 * Run the probe; see the module documentation.
 *
 * @example
 * ```ts
 * const report = probeCublas("libcudart.so.13", "libcublas.so.13");
 * console.log(report.paper_layer_us);
 * ```
 */
export function probeCublas(cudartPath: string, cublasPath: string): Record<string, unknown> {
  const { cudart, cublas, close } = openCuda(cudartPath, cublasPath);
  const allocated: Deno.PointerValue[] = [];
  const malloc = (floats: number) => {
    const out = new BigUint64Array(1);
    check("cudaMalloc", cudart.cudaMalloc(out, BigInt(floats * 4)));
    const pointer = Deno.UnsafePointer.create(out[0]);
    allocated.push(pointer);
    return pointer;
  };
  const upload = (device: Deno.PointerValue, host: Float32Array) =>
    check(
      "cudaMemcpy",
      cudart.cudaMemcpy(
        device,
        Deno.UnsafePointer.of(host),
        BigInt(host.byteLength),
        CUDA_MEMCPY_HOST_TO_DEVICE,
      ),
    );
  const handleOut = new BigUint64Array(1);
  check("cublasCreate", cublas.cublasCreate_v2(handleOut));
  const handle = Deno.UnsafePointer.create(handleOut[0]);
  const alpha = Float32Array.of(1);
  const beta = Float32Array.of(0);
  // Row-major C[m x n] = A[m x k] B[k x n] is column-major C^T = B^T A^T: swap the operands.
  const gemm = (
    a: Deno.PointerValue,
    b: Deno.PointerValue,
    c: Deno.PointerValue,
    m: number,
    k: number,
    n: number,
  ) =>
    cublas.cublasSgemm_v2(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, alpha, b, n, a, k, beta, c, n);
  try {
    // Correctness: a 64 x 48 by 48 x 32 product against float64 on the host.
    const [m0, k0, n0] = [64, 48, 32];
    const a = Float32Array.from({ length: m0 * k0 }, (_, i) => Math.sin(i));
    const b = Float32Array.from({ length: k0 * n0 }, (_, i) => Math.cos(i));
    const [da, db, dc] = [malloc(a.length), malloc(b.length), malloc(m0 * n0)];
    upload(da, a);
    upload(db, b);
    check("cublasSgemm", gemm(da, db, dc, m0, k0, n0));
    const c = new Float32Array(m0 * n0);
    check(
      "cudaMemcpy",
      cudart.cudaMemcpy(
        Deno.UnsafePointer.of(c),
        dc,
        BigInt(c.byteLength),
        CUDA_MEMCPY_DEVICE_TO_HOST,
      ),
    );
    let maxError = 0;
    for (let i = 0; i < m0; i++) {
      for (let j = 0; j < n0; j++) {
        let sum = 0;
        for (let p = 0; p < k0; p++) sum += a[i * k0 + p] * b[p * n0 + j];
        maxError = Math.max(maxError, Math.abs(sum - c[i * n0 + j]));
      }
    }
    const timed = (m: number, k: number, n: number, reps: number) => {
      const [x, w, y] = [malloc(m * k), malloc(k * n), malloc(m * n)];
      upload(x, Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)));
      upload(w, Float32Array.from({ length: k * n }, (_, i) => Math.cos(i)));
      check("cublasSgemm", gemm(x, w, y, m, k, n)); // warm-up
      check("cudaDeviceSynchronize", cudart.cudaDeviceSynchronize());
      let started = performance.now();
      for (let r = 0; r < reps; r++) gemm(x, w, y, m, k, n);
      check("cudaDeviceSynchronize", cudart.cudaDeviceSynchronize());
      const loopUs = (performance.now() - started) * 1000 / reps;
      started = performance.now();
      for (let r = 0; r < 100; r++) {
        gemm(x, w, y, m, k, n);
        cudart.cudaDeviceSynchronize();
      }
      const roundTripUs = (performance.now() - started) * 1000 / 100;
      return { loopUs, roundTripUs, gflops: 2 * m * k * n / (loopUs * 1e3) };
    };
    const layer = timed(16, 2048, 2048, 2000);
    const square = timed(4096, 4096, 4096, 20);
    return {
      cudart: cudartPath,
      cublas: cublasPath,
      check_64x48x32_max_abs_error: maxError,
      paper_layer_us: layer.loopUs,
      paper_layer_round_trip_us: layer.roundTripUs,
      paper_layer_gflops: layer.gflops,
      square_4096_us: square.loopUs,
      square_4096_gflops: square.gflops,
    };
  } finally {
    allocated.forEach((p) => cudart.cudaFree(p));
    cublas.cublasDestroy_v2(handle);
    close();
  }
}

if (import.meta.main) {
  await runCli((argv) => {
    const option = (name: string) => {
      const at = argv.indexOf(name);
      const value = at < 0 ? undefined : argv[at + 1];
      if (at >= 0 && (!value || value.startsWith("--"))) {
        throw new UsageError(`${name} needs a value`);
      }
      return value;
    };
    const cudart = option("--cudart") ?? "libcudart.so";
    const cublasLib = option("--cublas") ?? "libcublas.so";
    const text = JSON.stringify(probeCublas(cudart, cublasLib), null, 2);
    const out = option("--out");
    if (out) Deno.writeTextFileSync(out, text + "\n");
    console.log(text);
    return Promise.resolve();
  });
}
