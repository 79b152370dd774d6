/**
 * Notebook parameters: parsing the `parameters` cell and injecting overrides after it.
 *
 * Convention (same tag as papermill): every notebook has exactly one code cell whose metadata
 * carries `"tags": ["parameters"]`. Each non-blank line of that cell is either a `//` comment
 * or a declaration of the form
 *
 * ```text
 * const name = <JSON-compatible literal>; // optional comment
 * const name: Type = <JSON-compatible literal>;
 * ```
 *
 * with the literal on a single line (numbers, strings in double quotes, `true`/`false`,
 * `null`, arrays, objects). Overrides go into a cell tagged `injected-parameters` after it, as
 * papermill does: the executed copy shows both the defaults and what the run changed. Unknown
 * keys are errors.
 *
 * @module
 */
import { SettingError, settingOfParam, SETTINGS } from "../config/schema.ts";

/** A JSON value, as allowed for notebook parameters. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | JsonValue[]
  | { [key: string]: JsonValue };

/** Minimal nbformat v4 cell shape used here. */
export interface NotebookCell {
  cell_type: string;
  source: string | string[];
  metadata?: Record<string, unknown>;
  [key: string]: unknown;
}

/** Minimal nbformat v4 notebook shape used here. */
export interface Notebook {
  cells: NotebookCell[];
  metadata: Record<string, unknown>;
  nbformat: number;
  nbformat_minor: number;
  [key: string]: unknown;
}

/** One declaration found in a parameters cell. */
export interface ParameterDeclaration {
  /** Identifier declared by the line. */
  name: string;
  /** Value of the literal as written in the notebook. */
  value: JsonValue;
  /** 0-based line number inside the parameters cell. */
  line: number;
}

/** Raised for notebooks that do not follow the parameters convention or bad overrides. */
export class ParameterError extends Error {
  /** Creates a ParameterError. */
  constructor(message: string) {
    super(message);
    this.name = "ParameterError";
  }
}

const DECLARATION = /^(\s*const\s+([A-Za-z_$][\w$]*)\s*(?::[^=]+)?=\s*)(.*)$/;
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/**
 * Returns the source of a cell as a single string (nbformat allows a string or a list of lines).
 *
 * @example
 * ```ts
 * cellSource({ cell_type: "code", source: ["const a = 1;\n", "const b = 2;"] });
 * // "const a = 1;\nconst b = 2;"
 * ```
 */
export function cellSource(cell: NotebookCell): string {
  return Array.isArray(cell.source) ? cell.source.join("") : cell.source;
}

/** Splits text into Jupyter-style source lines, each keeping its trailing newline. */
function toSourceLines(text: string): string[] {
  return text.split(/(?<=\n)/).filter((line) => line.length > 0);
}

/**
 * Finds the code cells tagged `parameters` and returns their indices in `nb.cells`.
 *
 * @example
 * ```ts
 * const nb = JSON.parse(await Deno.readTextFile("notebooks/train.ipynb"));
 * findParametersCells(nb); // [1]
 * ```
 */
export function findParametersCells(nb: Notebook): number[] {
  const found: number[] = [];
  nb.cells.forEach((cell, index) => {
    const tags = cell.metadata?.tags;
    if (cell.cell_type === "code" && Array.isArray(tags) && tags.includes("parameters")) {
      found.push(index);
    }
  });
  return found;
}

/**
 * Splits `rest` (text after `=`) into the literal and what follows it (`;`, comment), honouring
 * double-quoted strings so that `"http://x"` is not cut at `//`.
 */
function splitLiteral(rest: string): { literal: string; tail: string } {
  let inString = false;
  for (let i = 0; i < rest.length; i++) {
    const ch = rest[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (ch === ";" || (ch === "/" && rest[i + 1] === "/")) {
      const literal = rest.slice(0, i).trimEnd();
      return { literal, tail: rest.slice(literal.length) };
    }
  }
  const literal = rest.trimEnd();
  return { literal, tail: rest.slice(literal.length) };
}

interface ParsedLine {
  prefix: string;
  name: string;
  literal: string;
  tail: string;
  value: JsonValue;
}

function parseLine(line: string, lineNo: number, where: string): ParsedLine | undefined {
  const body = line.replace(/\r?\n$/, "");
  const trimmed = body.trim();
  if (trimmed === "" || trimmed.startsWith("//")) return undefined;
  const m = DECLARATION.exec(body);
  if (!m) {
    throw new ParameterError(
      `${where}: parameters cell line ${lineNo + 1} is not of the form ` +
        `\`const name = <JSON literal>;\`: ${trimmed}`,
    );
  }
  const [, prefix, name, rest] = m;
  const { literal, tail } = splitLiteral(rest);
  let value: JsonValue;
  try {
    value = JSON.parse(literal);
  } catch {
    throw new ParameterError(
      `${where}: parameters cell line ${lineNo + 1}: the value of \`${name}\` must be a ` +
        `single-line JSON-compatible literal (double-quoted strings), got: ${literal}`,
    );
  }
  return { prefix, name, literal, tail, value };
}

/**
 * Parses the `parameters` cell of a notebook and returns its declarations (empty when the
 * notebook has no parameters cell). Throws {@link ParameterError} when there is more than one
 * such cell or a line breaks the convention.
 *
 * @example
 * ```ts
 * const nb = JSON.parse(await Deno.readTextFile("notebooks/train.ipynb"));
 * for (const p of parseParameters(nb, "train")) console.log(p.name, p.value);
 * ```
 */
export function parseParameters(nb: Notebook, name = "notebook"): ParameterDeclaration[] {
  const cells = findParametersCells(nb);
  if (cells.length === 0) return [];
  if (cells.length > 1) {
    throw new ParameterError(
      `${name}: expected exactly one code cell tagged "parameters", found ${cells.length} ` +
        `(cells[${cells.join("], cells[")}])`,
    );
  }
  const lines = toSourceLines(cellSource(nb.cells[cells[0]]));
  const result: ParameterDeclaration[] = [];
  const seen = new Set<string>();
  lines.forEach((line, i) => {
    const parsed = parseLine(line, i, name);
    if (!parsed) return;
    if (seen.has(parsed.name)) {
      throw new ParameterError(`${name}: parameter \`${parsed.name}\` is declared twice`);
    }
    seen.add(parsed.name);
    result.push({ name: parsed.name, value: parsed.value, line: i });
  });
  return result;
}

function describeAvailable(decls: ParameterDeclaration[]): string {
  if (decls.length === 0) return "it declares no parameters";
  return "available parameters: " +
    decls.map((d) => `${d.name} (default ${JSON.stringify(d.value)})`).join(", ");
}

function kindOf(value: JsonValue): string {
  return value === null ? "null" : Array.isArray(value) ? "list" : typeof value;
}

/** Parameters other than run settings for which null is a value (the experiments' own options). */
const NULLABLE_PARAMETERS = new Set(["concurrency"]);

/**
 * Check an override of a notebook parameter before the notebook runs: it must have the kind of
 * value its default has (a number for a number, a list of numbers for a list of numbers; any
 * value where the default is null), and a parameter named after a run setting (`batchSize` for
 * `batch_size`) must pass that setting's check from the configuration schema, which decides
 * whether null is allowed (`sampleSize` null: all samples). Throws
 * {@link ParameterError} naming the parameter and what it takes.
 *
 * @example
 * ```ts
 * checkParameterValue("noiseLevels", [0, 0.2], [0.1], "md"); // ok
 * checkParameterValue("noiseLevels", [0, 0.2], 1.5, "md"); // throws: takes a list
 * checkParameterValue("sampleSize", 500, null, "md"); // ok: the setting accepts null (all)
 * checkParameterValue("epochs", 12, null, "md"); // throws: takes a number
 * ```
 */
export function checkParameterValue(
  name: string,
  declared: JsonValue,
  value: JsonValue,
  notebook = "notebook",
): void {
  const problem = (what: string) =>
    new ParameterError(
      `${notebook}: parameter \`${name}\` ${what}, got ${JSON.stringify(value)} (default ` +
        `${JSON.stringify(declared)})`,
    );
  const settingName = settingOfParam(name);
  const setting = settingName && SETTINGS[settingName];
  // null is a value of its own for a parameter that documents it (concurrency null: config.ini's
  // MAXIMUM_CONCURRENT_JOBS)
  if (value === null && NULLABLE_PARAMETERS.has(name)) return;
  // null is a value of its own for a run setting that accepts it (sampleSize null: all samples)
  if (value === null && setting) {
    try {
      setting.parse(null);
      return;
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
    }
  }
  if (declared !== null && kindOf(value) !== kindOf(declared)) {
    throw problem(`takes a ${kindOf(declared)}`);
  }
  if (Array.isArray(declared) && Array.isArray(value) && declared.length > 0) {
    const element = kindOf(declared[0]);
    if (value.some((v) => kindOf(v) !== element)) throw problem(`takes a list of ${element}s`);
  }
  if (setting && !(value === null && declared === null)) {
    try {
      setting.parse(value);
    } catch (error) {
      if (!(error instanceof SettingError)) throw error;
      throw problem(error.message.replace(/, got .*$/, ""));
    }
  }
}

/** Tag of the cell holding the overrides (papermill's name). */
export const INJECTED_TAG = "injected-parameters";

function hasTag(cell: NotebookCell, tag: string): boolean {
  const tags = cell.metadata?.tags;
  return Array.isArray(tags) && tags.includes(tag);
}

/**
 * Returns a copy of the notebook with the overrides in a new code cell tagged
 * `injected-parameters` right after the `parameters` cell, which keeps its defaults (papermill's
 * convention; the Deno kernel lets a later cell declare a `const` again). An injected cell
 * already in the notebook is replaced. The effective parameters are recorded under
 * `metadata.memdil.parameters` of the copy. Throws {@link ParameterError} naming the notebook
 * and listing the available parameters when a key is unknown.
 *
 * @example
 * ```ts
 * const nb = JSON.parse(await Deno.readTextFile("notebooks/train.ipynb"));
 * const run = applyParameters(nb, { lr: 0.1, sizes: [0, 0.1] }, "train");
 * ```
 */
export function applyParameters(
  nb: Notebook,
  overrides: Record<string, JsonValue>,
  name = "notebook",
): Notebook {
  const copy: Notebook = structuredClone(nb);
  const decls = parseParameters(copy, name);
  const keys = Object.keys(overrides);
  const unknown = keys.filter((k) => !decls.some((d) => d.name === k));
  if (unknown.length > 0) {
    const cells = findParametersCells(copy);
    const why = cells.length === 0
      ? 'it has no code cell tagged "parameters"'
      : describeAvailable(decls);
    throw new ParameterError(
      `${name}: unknown parameter${unknown.length > 1 ? "s" : ""} ` +
        `${unknown.map((k) => `\`${k}\``).join(", ")}; ${why}`,
    );
  }
  for (const d of decls) {
    if (Object.hasOwn(overrides, d.name)) {
      checkParameterValue(d.name, d.value, overrides[d.name], name);
    }
  }
  const effective: Record<string, JsonValue> = {};
  for (const d of decls) effective[d.name] = d.value;
  // papermill's convention: an earlier injection is replaced, the defaults stay as written.
  copy.cells = copy.cells.filter((cell) => !hasTag(cell, INJECTED_TAG));
  if (keys.length > 0) {
    const index = findParametersCells(copy)[0];
    const lines = toSourceLines(cellSource(copy.cells[index]));
    const injected = decls.filter((d) => Object.hasOwn(overrides, d.name)).map((d) => {
      const parsed = parseLine(lines[d.line], d.line, name)!;
      effective[d.name] = overrides[d.name];
      return `${parsed.prefix}${JSON.stringify(overrides[d.name])};`;
    });
    copy.cells.splice(index + 1, 0, {
      cell_type: "code",
      id: INJECTED_TAG,
      execution_count: null,
      metadata: { tags: [INJECTED_TAG] },
      outputs: [],
      source: ["// Parameters injected for this run (the defaults are in the cell above)\n"]
        .concat(injected.map((line, i) => (i < injected.length - 1 ? `${line}\n` : line))),
    });
  }
  const meta = (copy.metadata.memdil ?? {}) as Record<string, unknown>;
  copy.metadata.memdil = { ...meta, parameters: effective, overridden: keys };
  return copy;
}

/**
 * Parses the value part of `--param key=value`: JSON when it parses as JSON, otherwise the raw
 * string.
 *
 * @example
 * ```ts
 * parseParamValue("0.5"); // 0.5
 * parseParamValue("[0,0.1]"); // [0, 0.1]
 * parseParamValue("adam"); // "adam"
 * ```
 */
export function parseParamValue(text: string): JsonValue {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * Parses one `key=value` assignment as given to `--param`. Throws {@link ParameterError} when
 * there is no `=` or the key is not a valid identifier.
 *
 * @example
 * ```ts
 * parseParamAssignment("lr=0.01"); // ["lr", 0.01]
 * ```
 */
export function parseParamAssignment(text: string): [string, JsonValue] {
  const eq = text.indexOf("=");
  if (eq <= 0) {
    throw new ParameterError(`--param expects key=value, got "${text}"`);
  }
  const key = text.slice(0, eq).trim();
  if (!IDENTIFIER.test(key)) {
    throw new ParameterError(`--param key "${key}" is not a valid identifier (in "${text}")`);
  }
  const value = parseParamValue(text.slice(eq + 1));
  // JSON has no infinity: 1e400 would reach the notebook as null.
  if (!allFinite(value)) {
    throw new ParameterError(
      `--param ${key}: ${text.slice(eq + 1)} is not a finite number (JSON has no infinity)`,
    );
  }
  return [key, value];
}

function allFinite(value: JsonValue): boolean {
  if (typeof value === "number") return Number.isFinite(value);
  if (Array.isArray(value)) return value.every(allFinite);
  if (value !== null && typeof value === "object") return Object.values(value).every(allFinite);
  return true;
}
