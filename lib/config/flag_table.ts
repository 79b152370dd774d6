/**
 * The flag table of docs/flags.md, generated from the schema (lib/config/schema.ts): one row per
 * setting with its flag, default, accepted values, the commands that take it, and its help.
 * A test compares docs/flags.md with {@link flagTable}; `deno run --allow-write=docs/flags.md
 * scripts/flags_md.ts` writes it again after a schema change.
 *
 * @module
 */
import { COMMANDS, settingRows } from "./schema.ts";

/** A markdown table cell: pipes escaped, line breaks folded. */
function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** A default as the command line shows it (`off`/`on` for switches, `-` for none). */
function shownDefault(type: string, value: unknown, negatable: boolean): string {
  if (type === "switch") return negatable ? "on" : "off";
  if (value === null) return "-";
  return `\`${Array.isArray(value) ? value.join(",") : String(value)}\``;
}

/**
 * The markdown of docs/flags.md: a heading, a line on where the table comes from, and one row per
 * setting of the schema, in schema order.
 *
 * @example
 * ```ts
 * const markdown = flagTable();
 * console.log(markdown.includes("`--label_noise <eta>`")); // true
 * ```
 */
export function flagTable(): string {
  const lines = [
    "# Flags of train, train-large, evaluate and evaluate-large",
    "",
    "Generated from the settings schema (`lib/config/schema.ts`) by `deno run " +
    "--allow-write=docs/flags.md scripts/flags_md.ts` (then `deno fmt docs/flags.md`); a test fails when this page and the schema " +
    "differ. `deno task <command> --help` prints the same options, with defaults changed by " +
    "config.ini. A switch is off by default, except `--no-bias` (the flag turns it off). Sweep " +
    "files, notebooks and search spaces take the same names without the dashes.",
    "",
    "| flag | default | values | commands | meaning |",
    "| ---- | ------- | ------ | -------- | ------- |",
  ];
  for (const [name, setting] of settingRows()) {
    const switchFlag = setting.type === "switch";
    const flag = `--${setting.negatable ? "no-" : ""}${name}` +
      (switchFlag ? "" : ` ${setting.placeholder ?? "<value>"}`);
    const commands = setting.commands.length === COMMANDS.length
      ? "all"
      : setting.commands.join(", ");
    lines.push(
      `| \`${cell(flag)}\` | ${
        cell(shownDefault(setting.type, setting.default, setting.negatable === true))
      } | ${cell(setting.type)} | ${commands} | ${cell(setting.help)} |`,
    );
  }
  return lines.join("\n") + "\n";
}
