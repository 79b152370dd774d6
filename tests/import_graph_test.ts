/**
 * The import graph of lib/ (static imports, comments and doc examples left out): no cycle between
 * modules or between folders, the bottom layers (io, config, backend, data, losses, models, optim,
 * metrics) import only from the bottom layers, nothing in lib/ imports cli/ or bench/, no
 * dynamic `import()` or `require()` in lib/, cli/ or bench/ takes a computed path (so `deno check`
 * sees every dependency and no input names code to load), and every mod.ts in lib/ only
 * re-exports.
 */
import { deepEqual } from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { REPO_ROOT } from "../lib/config/ini.ts";

/**
 * Bottom layers: the settings (config: the schema, whose types models take as a `Pick`) and what
 * models, optimizers and metrics are built from.
 */
const BOTTOM = new Set(["io", "config", "backend", "data", "losses", "models", "optim", "metrics"]);

function sourceFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of Deno.readDirSync(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) files.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts")) files.push(path);
  }
  return files;
}

/** The code of a module without comments (doc examples hold import lines of their own). */
function code(path: string): string {
  return Deno.readTextFileSync(path).replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
}

/** Repo-relative paths of the modules `path` imports or re-exports statically. */
function importsOf(path: string): string[] {
  const specifiers = [...code(path).matchAll(/(?:from|import)\s*"(\.[^"]+)"/g)].map((m) => m[1]);
  return specifiers.map((s) => relative(REPO_ROOT, resolve(dirname(path), s)));
}

const root = (path: string) => join(REPO_ROOT, path);
const libFiles = sourceFiles(root("lib")).map((path) => relative(REPO_ROOT, path));
const graph = new Map(libFiles.map((file) => [file, importsOf(root(file))]));
const folder = (file: string) => file.split("/")[1];

/** A cycle of `edges` as a list of nodes, or undefined. */
function findCycle(edges: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

Deno.test("lib/: no import cycle between modules or between folders", () => {
  const modules = new Map(
    [...graph].map((
      [file, imports],
    ) => [file, new Set(imports.filter((i) => i.startsWith("lib/")))]),
  );
  deepEqual(findCycle(modules), undefined);
  const folders = new Map<string, Set<string>>();
  for (const [file, imports] of modules) {
    const edges = folders.get(folder(file)) ?? new Set<string>();
    for (const target of imports) if (folder(target) !== folder(file)) edges.add(folder(target));
    folders.set(folder(file), edges);
  }
  deepEqual(findCycle(folders), undefined);
});

Deno.test("lib/: the bottom layers import only the bottom layers; nothing imports cli/ or bench/", () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    for (const target of imports) {
      if (!target.startsWith("lib/")) upward.push(`${file} -> ${target}`);
      else if (BOTTOM.has(folder(file)) && !BOTTOM.has(folder(target))) {
        upward.push(`${file} -> ${target}`);
      }
    }
  }
  deepEqual(upward, []);
});

Deno.test("no import() or require() with a computed path in lib/, cli/ or bench/", () => {
  const files = ["lib", "cli", "bench"].flatMap((dir) => sourceFiles(root(dir)));
  const computed = files
    .filter((path) => /\b(import|require)\(\s*[^"'\s)]/.test(code(path)))
    .map((path) => relative(REPO_ROOT, path));
  deepEqual(computed, []);
});

/**
 * The statements of a module that are not re-exports (`export * from`, `export { a } from`,
 * `export type { A } from`, `export * as a from`), comments left out.
 */
function notReexports(path: string): string[] {
  return code(path).split(";").map((statement) => statement.trim()).filter((statement) =>
    statement !== "" &&
    !/^export\s+(type\s+)?(\*(\s+as\s+\w+)?|\{[^}]*\})\s+from\s+"[^"]+"$/.test(statement)
  );
}

Deno.test("every lib/**/mod.ts only re-exports (its logic lives in a file named after it)", () => {
  const logic = libFiles.filter((file) => file.endsWith("/mod.ts"))
    .filter((file) => notReexports(root(file)).length > 0)
    .map((file) => `${file}: ${notReexports(root(file))[0].split("\n")[0]}`);
  deepEqual(logic, []);
});

Deno.test("no two modules in lib/ share a file name (mod.ts aside)", () => {
  const byName = Map.groupBy(libFiles, (file) => file.split("/").at(-1)!);
  const shared = [...byName].filter(([name, files]) => name !== "mod.ts" && files.length > 1)
    .map(([, files]) => files.sort().join(" "));
  deepEqual(shared, []);
});
