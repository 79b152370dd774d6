/**
 * docs/flags.md is the schema's flag table: the test fails when a setting is added, removed or
 * changed in lib/config/schema.ts without writing the page again
 * (`deno run --allow-write=docs/flags.md scripts/flags_md.ts`). Layout (`deno fmt`'s column
 * padding and line wrapping) is not compared.
 */
import { equal, ok } from "node:assert/strict";
import { flagTable } from "../lib/config/flag_table.ts";
import { settingRows } from "../lib/config/schema.ts";

/** The page without layout: whitespace runs folded, table padding and rule lengths dropped. */
function content(markdown: string): string {
  return markdown.replace(/\s+/g, " ").replace(/ ?\| ?/g, "|").replace(/-{3,}/g, "---").trim();
}

Deno.test("docs/flags.md is the table generated from the schema", async () => {
  const page = await Deno.readTextFile(new URL("../docs/flags.md", import.meta.url));
  equal(
    content(page),
    content(flagTable()),
    "docs/flags.md differs from the schema: run " +
      "`deno run --allow-write=docs/flags.md scripts/flags_md.ts && deno fmt docs/flags.md`",
  );
});

Deno.test("flagTable: one row per schema setting, with its flag", () => {
  const rows = flagTable().split("\n").filter((line) => line.startsWith("| `--"));
  equal(rows.length, settingRows().length);
  for (const [name, setting] of settingRows()) {
    const flag = `--${setting.negatable ? "no-" : ""}${name}`;
    ok(rows.some((row) => row.startsWith(`| \`${flag}`)), `no row for ${name}`);
  }
  ok(rows.some((row) => row.startsWith("| `--no-bias` | on |")));
});
