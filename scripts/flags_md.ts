/**
 * Write docs/flags.md from the settings schema: `deno run --allow-write=docs/flags.md
 * scripts/flags_md.ts` after adding or changing a setting.
 *
 * @module
 */
import { flagTable } from "../lib/config/flag_table.ts";

await Deno.writeTextFile(new URL("../docs/flags.md", import.meta.url), flagTable());
