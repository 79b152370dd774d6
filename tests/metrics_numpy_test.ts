// An independent reference: NC1, NC2 and NC3 computed by numpy (Debian's python3-numpy, run by
// /usr/bin/python3 in a subprocess) on the same random data, exactly as the reference's validation
// code computes them, against the backend's streamed metrics (wasm).
import { ok } from "node:assert/strict";
import { initBackend } from "../lib/backend/mod.ts";
import { evaluateSource, hostFeatureSource } from "../lib/metrics/mod.ts";

await initBackend("wasm");

const PYTHON = "/usr/bin/python3";

// Reads {features, labels, K, W} as JSON on stdin; prints [nc1, nc2, nc3, nc4].
const NUMPY_SCRIPT = `
import json, sys
import numpy as np
data = json.load(sys.stdin)
K = data["K"]
H = np.array(data["features"], dtype=np.float64)
y = np.array(data["labels"])
W = np.array(data["W"], dtype=np.float64)
b = np.array(data["b"], dtype=np.float64)
mu_G = H.mean(axis=0)
mu = np.stack([H[y == c].mean(axis=0) for c in range(K)])
centred = H - mu[y]
Sigma_W = centred.T @ centred / len(y)
M = mu - mu_G
Sigma_B = M.T @ M / K
nc1 = np.trace(Sigma_W @ np.linalg.pinv(Sigma_B)) / K
target = (np.eye(K) - np.ones((K, K)) / K) / np.sqrt(K - 1)
WWT = W @ W.T
nc2 = np.linalg.norm(WWT / np.linalg.norm(WWT) - target)
WH = W @ M.T
nc3 = np.linalg.norm(WH / np.linalg.norm(WH) - target)
nc4 = np.linalg.norm(W @ mu_G - b)
print(json.dumps([nc1, nc2, nc3, nc4]))
`;

Deno.test("NC1-NC4 agree with numpy on the same random data", async () => {
  let state = 99;
  const random = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
  const n = 800;
  const d = 7;
  const K = 4;
  const labels = Int32Array.from({ length: n }, (_, i) => i % K);
  const features = Float32Array.from(
    { length: n * d },
    (_, t) => labels[Math.floor(t / d)] * ((t % d) % 2) + 2 * random(),
  );
  const weight = Float64Array.from({ length: K * d }, () => random() - 0.5);
  const bias = Float64Array.from({ length: K }, () => random());
  const metrics = await evaluateSource(
    hostFeatureSource({ features, logits: new Float32Array(n * K), labels }, 128),
    { numClasses: K, dim: d, weight, bias },
  );

  const rows = Array.from(
    { length: n },
    (_, i) => Array.from(features.subarray(i * d, (i + 1) * d)),
  );
  const wRows = Array.from(
    { length: K },
    (_, c) => Array.from(weight.subarray(c * d, (c + 1) * d)),
  );
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(PYTHON, {
      args: ["-c", NUMPY_SCRIPT],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    throw new Error(`${PYTHON} cannot run (${error}); install python3 and python3-numpy`);
  }
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(JSON.stringify({
    K,
    features: rows,
    labels: Array.from(labels),
    W: wRows,
    b: Array.from(bias),
  })));
  await writer.close();
  const output = await child.output();
  const stderr = new TextDecoder().decode(output.stderr);
  ok(
    output.success,
    `numpy reference failed${
      stderr.includes("No module named 'numpy'") ? " (apt-get install python3-numpy)" : ""
    }: ${stderr}`,
  );
  const [nc1, nc2, nc3, nc4] = JSON.parse(new TextDecoder().decode(output.stdout));
  const ours = [
    metrics.collapse.nc1,
    metrics.collapse.nc2,
    metrics.collapse.nc3,
    metrics.collapse.nc4,
  ];
  [nc1, nc2, nc3, nc4].forEach((expected: number, i: number) => {
    const relative = Math.abs(ours[i] - expected) / Math.abs(expected);
    ok(relative < 1e-6, `NC${i + 1}: numpy ${expected}, ours ${ours[i]} (relative ${relative})`);
  });
});
