/**
 * A grid of sample images with their clean and flipped labels: what label noise did to a run's
 * training set, at a glance. Each image is drawn as 32 x 32 (or h x w) rectangles, one per pixel,
 * so the figure is plain Vega-Lite and renders headlessly like the others.
 *
 * @module
 */
import type { TopLevelSpec } from "vega-lite";
import { FONT_FAMILY, NOISY_COLOR, theme } from "./theme.ts";

/**
 * One image to show: 8-bit pixels, channel-major (1 or 3 channels).
 *
 * @example
 * ```ts
 * const sample: SampleImage = {
 *   pixels: new Uint8Array(32 * 32), channels: 1, size: 32, label: 1, originalLabel: 0, index: 7,
 * };
 * ```
 */
export interface SampleImage {
  pixels: Uint8Array;
  /** 1 (grayscale) or 3 (RGB planes). */
  channels: number;
  /** Side length (images are square). */
  size: number;
  /** Label trained on. */
  label: number;
  /** The dataset's label. */
  originalLabel: number;
  /** Index in the source dataset (shown in the caption). */
  index: number;
  /** Noisy despite label === originalLabel, e.g. a latent class; default: labels differ. */
  noisy?: boolean;
}

/** Options of {@link sampleGridSpec}. */
export interface SampleGridInput {
  samples: SampleImage[];
  /** Display names per class; default the class number. */
  classNames?: string[];
  title: string;
  /** Images per row (default 8). */
  columns?: number;
  /** Side of one drawn image in pixels (default 96). */
  cellSize?: number;
}

function hex(value: number): string {
  return value.toString(16).padStart(2, "0");
}

/**
 * Pick up to `count` samples of a split, half of them with flipped labels when there are enough,
 * in dataset order: the input of {@link sampleGridSpec}.
 *
 * @example
 * ```ts
 * import type { RunData } from "../data/mod.ts";
 * declare const data: RunData;
 * const samples = samplesOf(data.train, 16);
 * ```
 */
export function samplesOf(
  split: {
    pixels?: Uint8Array;
    channels?: number;
    labels: Int32Array;
    originalLabels: Int32Array;
    sourceIndex: Int32Array;
    count: number;
  },
  count: number,
  isNoisy: (label: number, originalLabel: number) => boolean = (y, o) => y !== o,
): SampleImage[] {
  if (!split.pixels || !split.channels) throw new Error("samplesOf needs a split with pixels");
  const { pixels, channels } = split;
  const size = Math.round(Math.sqrt(pixels.length / Math.max(1, split.count * channels)));
  const row = channels * size * size;
  const noisy: number[] = [];
  const clean: number[] = [];
  for (let i = 0; i < split.count; i++) {
    (isNoisy(split.labels[i], split.originalLabels[i]) ? noisy : clean).push(i);
  }
  const flipped = noisy.slice(0, Math.floor(count / 2));
  const chosen = [...flipped, ...clean.slice(0, count - flipped.length)].sort((a, b) => a - b);
  return chosen.map((i) => ({
    pixels: pixels.subarray(i * row, (i + 1) * row),
    channels,
    size,
    label: split.labels[i],
    originalLabel: split.originalLabels[i],
    index: split.sourceIndex[i],
    noisy: isNoisy(split.labels[i], split.originalLabels[i]),
  }));
}

/**
 * The Vega-Lite spec of a sample grid: each image captioned with its label; flipped samples get
 * "label (was original)" and a red caption marker.
 *
 * @example
 * ```ts
 * import type { RunData } from "../data/mod.ts";
 * import { saveFigure } from "./render.ts";
 * declare const data: RunData, path: string;
 * await saveFigure(sampleGridSpec({ samples: samplesOf(data.train, 16), title: "Train" }), path);
 * ```
 */
export function sampleGridSpec(input: SampleGridInput): TopLevelSpec {
  const columns = input.columns ?? 8;
  const cell = input.cellSize ?? 96;
  const spacing = 16;
  const name = (c: number) => input.classNames?.[c] ?? String(c);
  const pixels: Record<string, unknown>[] = [];
  input.samples.forEach((sample, s) => {
    const plane = sample.size * sample.size;
    const noisy = sample.noisy ?? sample.label !== sample.originalLabel;
    // Three lines: the index, the label, and the dataset's label when flipped.
    const caption = [
      `#${sample.index}`,
      name(sample.label),
      noisy ? `was ${name(sample.originalLabel)}` : "",
    ];
    for (let p = 0; p < plane; p++) {
      const [r, g, b] = sample.channels === 3
        ? [sample.pixels[p], sample.pixels[plane + p], sample.pixels[2 * plane + p]]
        : [sample.pixels[p], sample.pixels[p], sample.pixels[p]];
      pixels.push({
        sample: s,
        caption,
        noisy,
        x: p % sample.size,
        y: Math.floor(p / sample.size),
        color: `#${hex(r)}${hex(g)}${hex(b)}`,
      });
    }
  });
  return {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title: { text: input.title, subtitle: "red: flipped label (was: the dataset's label)" },
    data: { values: pixels },
    facet: {
      field: "sample",
      type: "ordinal",
      header: {
        title: null,
        labelExpr: "''",
        labelFontSize: 1,
      },
    },
    columns,
    spacing: { row: 44, column: spacing },
    // Lay out by the images alone: captions may reach into the spacing.
    bounds: "flush",
    spec: {
      width: cell,
      height: cell,
      layer: [
        {
          mark: { type: "rect", strokeWidth: 0 },
          encoding: {
            x: { field: "x", type: "ordinal", axis: null },
            y: { field: "y", type: "ordinal", axis: null },
            color: { field: "color", type: "nominal", scale: null, legend: null },
          },
        },
        {
          transform: [{ filter: "datum.x === 0 && datum.y === 0" }],
          mark: {
            type: "text",
            align: "left",
            baseline: "bottom",
            dy: -24, // the last caption line ends just above the image
            fontSize: 9,
            font: FONT_FAMILY,
          },
          encoding: {
            x: { value: 0 },
            y: { value: 0 },
            text: { field: "caption" },
            color: {
              condition: { test: "datum.noisy", value: NOISY_COLOR },
              value: "#333333",
            },
          },
        },
      ],
    },
    config: { ...theme, view: { stroke: null } },
  } as TopLevelSpec;
}
