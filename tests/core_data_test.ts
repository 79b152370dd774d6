/**
 * Data layer: IDX decoding, locating Fashion-MNIST, Pillow-exact bilinear resize, input
 * normalization, label noise, the validation split and a run's data on the real dataset.
 *
 * No compute backend is needed: everything here is plain TypeScript on host arrays.
 */
import { deepEqual, equal, notDeepEqual, ok, rejects, throws } from "node:assert/strict";
import {
  applyLabelNoise,
  DEBIAN_FASHION_MNIST_DIR,
  drawTrainingSet,
  FASHION_MNIST_FILES,
  grayscaleToInputs,
  gunzip,
  isGzip,
  loadFashionMnist,
  loadRunData,
  MNIST_NORMALIZATION,
  parseIdx,
  Random,
  readIdxFile,
  resizeBilinear,
  selectClasses,
  validationSplit,
} from "../lib/data/mod.ts";

// ---------------------------------------------------------------------------------------------
// Helpers

/** An IDX ubyte file: 0, 0, type 0x08, ndims, big-endian uint32 dims, then the values. */
function idxBytes(shape: number[], values: number[], typeCode = 0x08): Uint8Array {
  const header = new Uint8Array(4 + 4 * shape.length);
  header[2] = typeCode;
  header[3] = shape.length;
  const view = new DataView(header.buffer);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const out = new Uint8Array(header.length + values.length);
  out.set(header);
  out.set(values, header.length);
  return out;
}

async function gzipBytes(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "memdil_core_data_" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function close(actual: number, expected: number, tolerance: number, what = ""): void {
  ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: expected ${expected} +- ${tolerance}, got ${actual}`,
  );
}

/** Pillow's `Image.resize(BILINEAR)` of an 8-bit grayscale image, via /usr/bin/python3. */
async function pilResize(
  image: Uint8Array,
  height: number,
  width: number,
  outHeight: number,
  outWidth: number,
): Promise<Uint8Array> {
  const script = [
    "import sys",
    "from PIL import Image",
    "h, w, oh, ow = map(int, sys.argv[1:5])",
    "data = sys.stdin.buffer.read()",
    "im = Image.frombytes('L', (w, h), data)",
    "sys.stdout.buffer.write(im.resize((ow, oh), Image.BILINEAR).tobytes())",
  ].join("\n");
  const child = new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, String(height), String(width), String(outHeight), String(outWidth)],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(image);
  await writer.close();
  const { code, stdout, stderr } = await child.output();
  equal(code, 0, `python3 + PIL failed: ${new TextDecoder().decode(stderr)}`);
  equal(stdout.length, outHeight * outWidth);
  return stdout;
}

// ---------------------------------------------------------------------------------------------
// IDX

Deno.test("idx: uncompressed and gzip files decode to the same shape and values", async () => {
  await withTempDir(async (dir) => {
    // 3 images of 2x3 pixels with values 0..17, row-major.
    const values = Array.from({ length: 18 }, (_, i) => i * 14);
    const raw = idxBytes([3, 2, 3], values);
    // Header by hand: 00 00 08 03 | 00 00 00 03 | 00 00 00 02 | 00 00 00 03.
    deepEqual(Array.from(raw.subarray(0, 16)), [0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 3]);
    await Deno.writeFile(`${dir}/images-idx3-ubyte`, raw);
    const compressed = await gzipBytes(raw);
    ok(isGzip(compressed));
    ok(!isGzip(raw));
    await Deno.writeFile(`${dir}/images-idx3-ubyte.gz`, compressed);

    for (const name of ["images-idx3-ubyte", "images-idx3-ubyte.gz"]) {
      const parsed = await readIdxFile(`${dir}/${name}`);
      deepEqual(parsed.shape, [3, 2, 3], name);
      deepEqual(Array.from(parsed.data), values, name);
    }
    // A label file (1 dimension).
    const labels = parseIdx(idxBytes([4], [7, 0, 9, 255]), "labels");
    deepEqual(labels.shape, [4]);
    deepEqual(Array.from(labels.data), [7, 0, 9, 255]);
    // Large dimensions are big-endian: 0x00 0x00 0x01 0x02 = 258.
    deepEqual(parseIdx(idxBytes([258], new Array(258).fill(1)), "big").shape, [258]);
  });
});

Deno.test("idx: a truncated file is an error naming the file and saying 'truncated'", async () => {
  await withTempDir(async (dir) => {
    const full = idxBytes([2, 2, 2], [1, 2, 3, 4, 5, 6, 7, 8]);
    const path = `${dir}/cut-idx3-ubyte`;
    await Deno.writeFile(path, full.subarray(0, full.length - 3));
    await rejects(readIdxFile(path), (error: Error) => {
      ok(error.message.includes("truncated"), error.message);
      ok(error.message.includes(path), error.message);
      return true;
    });
    // The gzip of a truncated IDX file is just as truncated.
    const gzPath = `${dir}/cut-idx3-ubyte.gz`;
    await Deno.writeFile(gzPath, await gzipBytes(full.subarray(0, full.length - 1)));
    await rejects(readIdxFile(gzPath), (error: Error) => {
      ok(error.message.includes("truncated") && error.message.includes(gzPath), error.message);
      return true;
    });
    // A header cut short.
    throws(() => parseIdx(full.subarray(0, 9), "header.idx"), /header\.idx.*truncated/);
  });
});

Deno.test("idx: a truncated gzip stream is an error naming the file", async () => {
  await withTempDir(async (dir) => {
    const values = Array.from({ length: 4000 }, (_, i) => (i * 7919) % 251);
    const compressed = await gzipBytes(idxBytes([4000], values));
    const path = `${dir}/labels-idx1-ubyte.gz`;
    await Deno.writeFile(path, compressed.subarray(0, Math.floor(compressed.length / 2)));
    await rejects(readIdxFile(path), (error: Error) => {
      ok(error.message.includes(path), error.message);
      ok(/truncated|corrupt/.test(error.message), error.message);
      return true;
    });
    await rejects(gunzip(compressed.subarray(0, 12), "stream-name"), /stream-name/);
  });
});

Deno.test("idx: bad magic, wrong type code and trailing bytes are errors", () => {
  const good = idxBytes([2], [1, 2]);
  const badMagic = Uint8Array.from(good);
  badMagic[0] = 1;
  throws(() => parseIdx(badMagic, "x.idx"), /x\.idx.*bad magic/);
  throws(() => parseIdx(new Uint8Array([0x1f, 0x8b, 8, 0]), "y.idx"), /bad magic/);
  throws(() => parseIdx(new Uint8Array([0, 0]), "tiny.idx"), /bad magic/);
  // 0x0D is the IDX code for float32: not supported.
  throws(() => parseIdx(idxBytes([2], [1, 2], 0x0d), "f.idx"), /f\.idx.*0xd unsupported/);
  throws(
    () => parseIdx(Uint8Array.from([...good, 0]), "long.idx"),
    /long\.idx.*trailing bytes/,
  );
});

// ---------------------------------------------------------------------------------------------
// Locating and verifying Fashion-MNIST

Deno.test("fashion-mnist: missing everywhere with download off lists the places and apt-get", async () => {
  await withTempDir(async (dir) => {
    await rejects(
      loadFashionMnist({ dataDir: dir, systemDirs: [], download: false }),
      (error: Error) => {
        ok(error.message.includes(`${dir}/FashionMNIST/raw/`), error.message);
        ok(error.message.includes("apt-get install dataset-fashion-mnist"), error.message);
        for (const file of FASHION_MNIST_FILES) ok(error.message.includes(file.name));
        return true;
      },
    );
    const other = `${dir}/elsewhere`;
    await rejects(
      loadFashionMnist({ dataDir: dir, systemDirs: [other], download: false }),
      (error: Error) => error.message.includes(`${other}/`),
    );
  });
});

Deno.test("fashion-mnist: the Debian copy decodes to the known splits", async () => {
  await withTempDir(async (dir) => {
    const { train, test, source } = await loadFashionMnist({ dataDir: dir, download: false });
    equal(source, DEBIAN_FASHION_MNIST_DIR);
    equal(train.count, 60000);
    equal(test.count, 10000);
    equal(train.height, 28);
    equal(train.width, 28);
    equal(train.images.length, 60000 * 28 * 28);
    equal(test.images.length, 10000 * 28 * 28);
    // Known facts of the dataset (also read independently with Python's gzip module): the first
    // labels, and 6000 / 1000 samples per class.
    deepEqual(Array.from(train.labels.subarray(0, 10)), [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]);
    deepEqual(Array.from(test.labels.subarray(0, 10)), [9, 2, 1, 1, 6, 1, 4, 6, 5, 7]);
    const trainCounts = new Array(10).fill(0);
    train.labels.forEach((l) => trainCounts[l]++);
    deepEqual(trainCounts, new Array(10).fill(6000));
    const testCounts = new Array(10).fill(0);
    test.labels.forEach((l) => testCounts[l]++);
    deepEqual(testCounts, new Array(10).fill(1000));
    // Sum of the first training image's 784 pixels, computed with Python's gzip module.
    equal(train.images.subarray(0, 784).reduce((a, b) => a + b, 0), 76247);
  });
});

Deno.test("fashion-mnist: torchvision layout found first, uncompressed copies accepted, corrupt content refused", async () => {
  await withTempDir(async (dir) => {
    const raw = `${dir}/FashionMNIST/raw`;
    await Deno.mkdir(raw, { recursive: true });
    for (const file of FASHION_MNIST_FILES) {
      await Deno.symlink(`${DEBIAN_FASHION_MNIST_DIR}/${file.name}`, `${raw}/${file.name}`);
    }
    const found = await loadFashionMnist({ dataDir: dir, systemDirs: [], download: false });
    equal(found.source, raw);
    equal(found.test.count, 10000);

    // Replace the test labels by an uncompressed copy with one label changed: it parses as IDX
    // but its content checksum no longer matches Fashion-MNIST.
    const name = "t10k-labels-idx1-ubyte.gz";
    const content = await gunzip(await Deno.readFile(`${raw}/${name}`), name);
    content[8] = (content[8] + 1) % 10;
    await Deno.remove(`${raw}/${name}`);
    const uncompressed = `${raw}/t10k-labels-idx1-ubyte`;
    await Deno.writeFile(uncompressed, content);
    await rejects(
      loadFashionMnist({ dataDir: dir, systemDirs: [], download: false }),
      (error: Error) => {
        ok(error.message.includes(uncompressed), error.message);
        ok(error.message.includes("checksum"), error.message);
        return true;
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Resize and normalization

Deno.test("resizeBilinear: 2x2 -> 4x4 matches Pillow's algorithm worked by hand", () => {
  // Pillow's bilinear coefficients for inSize 2 -> outSize 4: scale = 0.5, support = 1, output
  // pixel x has centre c = (x + 0.5) * 0.5 and taps xmin = int(c - 1 + 0.5) .. int(c + 1 + 0.5)
  // (clipped to [0, 2)), weight = max(0, 1 - |tap - c + 0.5|), normalized:
  //   x=0: c=0.25, taps {0}: weights [1]               -> a
  //   x=1: c=0.75, taps {0,1}: [0.75, 0.25]             -> (3a + b) / 4
  //   x=2: c=1.25, taps {0,1}: [0.25, 0.75]             -> (a + 3b) / 4
  //   x=3: c=1.75, taps {1}: [1]                        -> b
  // In 22-bit fixed point 0.75 -> 3145728 and 0.25 -> 1048576 exactly, and each pass adds
  // 2^21 then shifts right by 22: round half up to 8 bits after each pass.
  //
  // Image [[0, 100], [200, 255]]. Horizontal pass first:
  //   row 0 (0, 100):   [0, 25, 75, 100]
  //   row 1 (200, 255): [200, 213.75 -> 214, 241.25 -> 241, 255]
  // Vertical pass on each column of that 2x4 image:
  //   col 0 (0, 200):   [0, 50, 150, 200]
  //   col 1 (25, 214):  [25, 72.25 -> 72, 166.75 -> 167, 214]
  //   col 2 (75, 241):  [75, 116.5 -> 117, 199.5 -> 200, 241]
  //   col 3 (100, 255): [100, 138.75 -> 139, 216.25 -> 216, 255]
  const out = resizeBilinear(new Uint8Array([0, 100, 200, 255]), 2, 2, 4, 4);
  deepEqual(Array.from(out), [
    0,
    25,
    75,
    100,
    50,
    72,
    117,
    139,
    150,
    167,
    200,
    216,
    200,
    214,
    241,
    255,
  ]);
});

Deno.test("resizeBilinear: the horizontal pass comes first (rounding is order-dependent)", () => {
  // Image [[0, 0], [1, 3]] with the 1-D rule above (r = round half up).
  // Horizontal first: row 0 -> [0, 0, 0, 0]; row 1 (1, 3) -> [1, r(1.5)=2, r(2.5)=3, 3].
  //   Then columns: (0,1) -> [0, r(.25)=0, r(.75)=1, 1]; (0,2) -> [0, r(.5)=1, r(1.5)=2, 2];
  //   (0,3) -> [0, r(.75)=1, r(2.25)=2, 3]; (0,3) -> [0, 1, 2, 3].
  // Vertical first would give row 1 = [0, 0, 1, 1] instead of [0, 1, 1, 1].
  const out = resizeBilinear(new Uint8Array([0, 0, 1, 3]), 2, 2, 4, 4);
  deepEqual(Array.from(out), [
    0,
    0,
    0,
    0,
    0,
    1,
    1,
    1,
    1,
    2,
    2,
    2,
    1,
    2,
    3,
    3,
  ]);
});

Deno.test("resizeBilinear: downscaling widens the filter (1x4 -> 1x2)", () => {
  // inSize 4 -> outSize 2: scale = 2, the triangle is stretched by filterscale 2, support 2.
  //   x=0: c=1, taps 0..2, raw weights 1-|(t-1+0.5)/2| = [0.75, 0.75, 0.25] / 1.75
  //        = [3/7, 3/7, 1/7] -> fixed point [1797559, 1797559, 599186] (sum 2^22)
  //   x=1: c=3, taps 1..3: [1/7, 3/7, 3/7]
  // Row [10, 20, 30, 40]:
  //   x=0: (10*1797559 + 20*1797559 + 30*599186 + 2^21) >> 22 = 73999502 >> 22 = 17  (120/7=17.1)
  //   x=1: (20*599186 + 30*1797559 + 40*1797559 + 2^21) >> 22 = 139910002 >> 22 = 33 (230/7=32.9)
  // The 1 -> 1 vertical pass is the identity.
  deepEqual(Array.from(resizeBilinear(new Uint8Array([10, 20, 30, 40]), 1, 4, 1, 2)), [17, 33]);
  // Same size both ways: the identity.
  const image = Uint8Array.from({ length: 12 }, (_, i) => (i * 37) % 256);
  deepEqual(Array.from(resizeBilinear(image, 3, 4, 3, 4)), Array.from(image));
});

Deno.test("resizeBilinear equals Pillow's Image.resize(BILINEAR) exactly", async () => {
  const rng = new Random(99);
  const cases: [number, number, number, number][] = [
    [28, 28, 32, 32], // the dataset's resize
    [28, 28, 17, 23], // downscale, not square
    [5, 7, 32, 32], // strong upscale, not square
    [3, 40, 9, 13], // mixed
  ];
  for (const [h, w, oh, ow] of cases) {
    const image = Uint8Array.from({ length: h * w }, () => rng.integer(256));
    const expected = await pilResize(image, h, w, oh, ow);
    deepEqual(
      Array.from(resizeBilinear(image, h, w, oh, ow)),
      Array.from(expected),
      `${h}x${w} -> ${oh}x${ow}`,
    );
  }
  // Extreme values: a checkerboard of 0 and 255.
  const board = Uint8Array.from({ length: 28 * 28 }, (_, i) => ((i + (i / 28 | 0)) % 2) * 255);
  deepEqual(
    Array.from(resizeBilinear(board, 28, 28, 32, 32)),
    Array.from(await pilResize(board, 28, 28, 32, 32)),
  );
});

Deno.test("grayscaleToInputs: 3 replicated channels, channel-major, (v/255 - 0.1307)/0.3081", () => {
  // Two 2x2 images, size 2: no resize. Sample i, channel c, pixel p is at (i*3 + c)*4 + p.
  const images = new Uint8Array([0, 51, 128, 255, 10, 20, 30, 40]);
  const out = grayscaleToInputs(images, 2, 2, 2, 2, MNIST_NORMALIZATION);
  equal(out.length, 2 * 3 * 4);
  const normalize = (v: number) => (v / 255 - 0.1307) / 0.3081;
  // Two values by hand: 0 -> -0.1307/0.3081 = -0.42421; 255 -> 0.8693/0.3081 = 2.82149.
  close(out[0], -0.424213, 1e-5, "v=0");
  close(out[3], 2.821486, 1e-5, "v=255");
  for (let i = 0; i < 2; i++) {
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 4; p++) {
        close(out[(i * 3 + c) * 4 + p], normalize(images[i * 4 + p]), 1e-6, `i${i} c${c} p${p}`);
      }
    }
  }
  // With a resize: the 2x2 image of the hand-worked example above becomes 4x4 first.
  const resized = grayscaleToInputs(new Uint8Array([0, 100, 200, 255]), 1, 2, 2, 4, {
    mean: [0.5, 0, 0.25],
    std: [0.5, 1, 2],
  });
  const hand = [0, 25, 75, 100, 50, 72, 117, 139, 150, 167, 200, 216, 200, 214, 241, 255];
  const means = [0.5, 0, 0.25];
  const stds = [0.5, 1, 2];
  for (let c = 0; c < 3; c++) {
    for (let p = 0; p < 16; p++) {
      close(resized[c * 16 + p], (hand[p] / 255 - means[c]) / stds[c], 1e-6, `c${c} p${p}`);
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Random, class selection, label noise, validation split

Deno.test("Random: seeded, in range, permutations are permutations", () => {
  const a = new Random(42);
  const b = new Random(42);
  const c = new Random(43);
  const xs = Array.from({ length: 1000 }, () => a.uniform());
  deepEqual(xs, Array.from({ length: 1000 }, () => b.uniform()));
  notDeepEqual(xs, Array.from({ length: 1000 }, () => c.uniform()));
  ok(xs.every((x) => x >= 0 && x < 1));
  // Mean of 1000 uniforms: 0.5 +- 4 * sqrt(1/12/1000) = 0.5 +- 0.037.
  close(xs.reduce((s, x) => s + x, 0) / 1000, 0.5, 0.037, "uniform mean");
  const ints = Array.from({ length: 1000 }, () => a.integer(7));
  ok(ints.every((k) => Number.isInteger(k) && k >= 0 && k < 7));
  deepEqual(new Set(ints).size, 7);
  const perm = new Random(1).permutation(50);
  deepEqual(Array.from(perm).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  notDeepEqual(Array.from(perm), Array.from({ length: 50 }, (_, i) => i));
  // Normal deviates: mean 0 +- 4/sqrt(n), variance 1 +- 4*sqrt(2/n) for n = 20000.
  const rn = new Random(5);
  const ns = Array.from({ length: 20000 }, () => rn.normal());
  const mean = ns.reduce((s, x) => s + x, 0) / ns.length;
  const variance = ns.reduce((s, x) => s + (x - mean) ** 2, 0) / ns.length;
  close(mean, 0, 4 / Math.sqrt(20000), "normal mean");
  close(variance, 1, 4 * Math.sqrt(2 / 20000), "normal variance");
});

Deno.test("selectClasses keeps the samples labelled 0..K-1, in order", () => {
  deepEqual(Array.from(selectClasses(new Uint8Array([0, 3, 1, 2]), 2)), [0, 2]);
  deepEqual(Array.from(selectClasses([4, 2, 0, 1, 2, 9], 3)), [1, 2, 3, 4]);
  deepEqual(Array.from(selectClasses([5, 6], 2)), []);
});

for (const [classes, eta] of [[2, 0.2], [5, 0.3]] as const) {
  Deno.test(`applyLabelNoise: K=${classes}, eta=${eta} flips at eta(K-1)/K, uniformly`, () => {
    const n = 200_000;
    const labels = Int32Array.from({ length: n }, (_, i) => i % classes);
    const before = Int32Array.from(labels);
    const noisy = applyLabelNoise(labels, classes, eta, new Random(7));
    deepEqual(labels, before, "the input labels are untouched");
    equal(noisy.length, n);
    ok(noisy.every((y) => y >= 0 && y < classes));
    // A sample is corrupted with probability eta and then drawn uniformly from K classes, so it
    // changes with probability p = eta (K-1)/K; the count of changes is Binomial(n, p).
    const p = eta * (classes - 1) / classes;
    let flips = 0;
    const flippedTo = new Array(classes).fill(0);
    for (let i = 0; i < n; i++) {
      if (noisy[i] !== labels[i]) {
        flips++;
        // Relative target: how far (mod K) the new label is from the old, 1..K-1.
        flippedTo[(noisy[i] - labels[i] + classes) % classes]++;
      }
    }
    const sigma = Math.sqrt(p * (1 - p) / n);
    close(flips / n, p, 4 * sigma, "flip rate");
    // Given a flip, each of the K-1 other classes is equally likely: Binomial(flips, 1/(K-1)).
    if (classes > 2) {
      const q = 1 / (classes - 1);
      for (let shift = 1; shift < classes; shift++) {
        close(
          flippedTo[shift],
          flips * q,
          4 * Math.sqrt(flips * q * (1 - q)),
          `flips by ${shift}`,
        );
      }
    }
  });
}

Deno.test("applyLabelNoise: reproducible per seed, eta 0 and eta 1", () => {
  const labels = Int32Array.from({ length: 5000 }, (_, i) => (i * 31) % 3);
  const a = applyLabelNoise(labels, 3, 0.4, new Random(11));
  const b = applyLabelNoise(labels, 3, 0.4, new Random(11));
  const c = applyLabelNoise(labels, 3, 0.4, new Random(12));
  deepEqual(a, b);
  notDeepEqual(a, c);
  deepEqual(applyLabelNoise(labels, 3, 0, new Random(1)), labels);
  // eta = 1: every label is redrawn uniformly, so 2/3 change: 0.6667 +- 4*sqrt(2/9/5000).
  const all = applyLabelNoise(labels, 3, 1, new Random(1));
  const changed = all.filter((y, i) => y !== labels[i]).length / labels.length;
  close(changed, 2 / 3, 4 * Math.sqrt((2 / 9) / 5000), "eta=1");
});

Deno.test("validationSplit: floor(p n) validation positions, disjoint, covering 0..n-1", () => {
  const { train, validation } = validationSplit(10, 0.2, new Random(6));
  equal(validation.length, 2);
  equal(train.length, 8);
  deepEqual(
    [...validation, ...train].sort((a, b) => a - b),
    Array.from({ length: 10 }, (_, i) => i),
  );
  equal(validationSplit(7, 0.5, new Random(1)).validation.length, 3); // floor(3.5)
  equal(validationSplit(9, 0, new Random(1)).validation.length, 0);
  deepEqual(validationSplit(100, 0.3, new Random(4)), validationSplit(100, 0.3, new Random(4)));
});

Deno.test("drawTrainingSet: seeded record of selected samples, labels and split", () => {
  const source = Uint8Array.from({ length: 3000 }, (_, i) => (i * 7) % 10);
  const options = { classes: 3, label_noise: 0.3, val_split_prop: 0.25, seed: 9 };
  const a = drawTrainingSet(source, options);
  deepEqual(a, drawTrainingSet(source, options));
  notDeepEqual(a.labels, drawTrainingSet(source, { ...options, seed: 10 }).labels);
  // (7i mod 10) < 3 for 3 residues of i mod 10: 900 samples.
  equal(a.sourceIndex.length, 900);
  ok(Array.from(a.sourceIndex).every((s, i) => source[s] === a.originalLabels[i]));
  equal(a.split.filter((s) => s === "validation").length, 225); // floor(0.25 * 900)
  equal(a.split.length, 900);
});

// ---------------------------------------------------------------------------------------------
// A run's data on the real dataset

Deno.test("loadRunData on Fashion-MNIST: sizes, untouched test labels, noisy train labels", async () => {
  await withTempDir(async (dir) => {
    const options = {
      dataset: "fashionmnist",
      data_dir: dir, // empty: found in the Debian directory
      classes: 2,
      label_noise: 0.2,
      val_split_prop: 0.2,
      seed: 6,
    };
    const data = await loadRunData(options);
    const trainLabels = (await readIdxFile(
      `${DEBIAN_FASHION_MNIST_DIR}/train-labels-idx1-ubyte.gz`,
    )).data;
    const testLabels = (await readIdxFile(
      `${DEBIAN_FASHION_MNIST_DIR}/t10k-labels-idx1-ubyte.gz`,
    )).data;
    equal(data.source, DEBIAN_FASHION_MNIST_DIR);
    equal(data.classes, 2);
    // Classes 0 and 1: 6000 + 6000 training samples; 20% of 12000 = 2400 for validation.
    equal(data.train.count + data.validation.count, 12000);
    equal(data.validation.count, 2400);
    equal(data.train.count, 9600);
    equal(data.test.count, 2000);
    for (const split of [data.train, data.validation, data.test]) {
      equal(split.inputs.length, split.count * 3072);
      equal(split.labels.length, split.count);
    }
    // Test labels: the dataset's own, never corrupted.
    deepEqual(data.test.labels, data.test.originalLabels);
    const expectedTest = Array.from(testLabels).flatMap((l, i) => (l < 2 ? [i] : []));
    deepEqual(Array.from(data.test.sourceIndex), expectedTest);
    deepEqual(Array.from(data.test.labels), expectedTest.map((i) => testLabels[i]));
    // Train and validation: original labels are the dataset's, together exactly classes 0 and 1.
    const used = [...data.train.sourceIndex, ...data.validation.sourceIndex].sort((a, b) => a - b);
    deepEqual(used, Array.from(trainLabels).flatMap((l, i) => (l < 2 ? [i] : [])));
    for (const split of [data.train, data.validation]) {
      ok(Array.from(split.sourceIndex).every((s, i) => trainLabels[s] === split.originalLabels[i]));
    }
    // Noisy labels: K=2, eta=0.2 flips at rate 0.1 +- 4 sqrt(0.09/12000) = 0.1 +- 0.011.
    let flips = 0;
    for (const split of [data.train, data.validation]) {
      split.labels.forEach((y, i) => (flips += y !== split.originalLabels[i] ? 1 : 0));
    }
    close(flips / 12000, 0.1, 4 * Math.sqrt(0.09 / 12000), "flip rate");
    // The record reproduces the very same samples and labels.
    deepEqual(
      data.record,
      drawTrainingSet(trainLabels, options),
    );
    const again = await loadRunData(options, data.record);
    deepEqual(again.train.labels, data.train.labels);
    deepEqual(again.validation.sourceIndex, data.validation.sourceIndex);
    deepEqual(again.train.inputs.subarray(0, 3072), data.train.inputs.subarray(0, 3072));

    // The first test sample (source index 2, a label-1 "trouser") goes through Pillow's resize
    // then the normalization: compare with PIL.
    const images = (await readIdxFile(`${DEBIAN_FASHION_MNIST_DIR}/t10k-images-idx3-ubyte.gz`))
      .data;
    const first = data.test.sourceIndex[0];
    const pil = await pilResize(images.subarray(first * 784, (first + 1) * 784), 28, 28, 32, 32);
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < 1024; p++) {
        close(
          data.test.inputs[c * 1024 + p],
          (pil[p] / 255 - 0.1307) / 0.3081,
          1e-6,
          `test[0] c${c} p${p}`,
        );
      }
    }
  });
});

Deno.test("loadRunData: an unknown dataset is refused", async () => {
  await rejects(
    loadRunData({
      dataset: "imagenet",
      data_dir: "/nonexistent",
      classes: 2,
      label_noise: 0,
      val_split_prop: 0,
      seed: 1,
    }),
    /imagenet/,
  );
});
