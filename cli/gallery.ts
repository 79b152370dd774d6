/**
 * `deno task gallery [--results DIR] [--port N] [--build-only]`: build `results/index.html`
 * (every figure under the results directory, interactive, with the runs it came from) and serve
 * it on http://127.0.0.1:PORT/ until Ctrl-C.
 *
 * Exit codes: 0 ok, 1 failure, 2 usage error (bad flag, port in use).
 *
 * @module
 */
import { Command, Option } from "commander";
import { resolve } from "node:path";
import { parseCommandLine, UsageError } from "../lib/config/flags.ts";
import { REPO_ROOT } from "../lib/config/ini.ts";
import { buildGallery, serveGallery } from "../lib/gallery/mod.ts";
import { runCli } from "./common.ts";

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`--port: expected an integer in 0..65535, got '${value}'`);
  }
  return n;
}

if (import.meta.main) {
  await runCli(async (args) => {
    const program = new Command("gallery")
      .description("Build results/index.html with every figure and serve it on localhost.")
      .addOption(
        new Option("--results <dir>", "results directory").default(`${REPO_ROOT}/results`),
      )
      .addOption(
        new Option("--port <n>", "port on 127.0.0.1 (0: any free one)").default(8000)
          .argParser(port),
      )
      .addOption(new Option("--build-only", "write index.html and exit").default(false));
    parseCommandLine(program, args);
    const options = program.opts<{ results: string; port: number; buildOnly: boolean }>();
    const results = resolve(options.results);
    const { index, figures } = await buildGallery(results);
    console.log(`gallery: ${figures.length} figures -> ${index}`);
    if (figures.length === 0) {
      console.log("no figures yet: run `deno task notebooks --profile quick` first");
    }
    if (options.buildOnly) return;
    let server;
    try {
      server = await serveGallery(results, { port: options.port });
    } catch (error) {
      if (error instanceof Deno.errors.AddrInUse) {
        throw new UsageError(`port ${options.port} is in use: pass --port with another one`);
      }
      throw error;
    }
    console.log(`serving ${results} on ${server.url} (Ctrl-C stops)`);
    Deno.addSignalListener("SIGINT", () => server.shutdown());
    await server.finished;
  });
}
