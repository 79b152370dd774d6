/**
 * Durations for progress lines.
 *
 * @module
 */

/**
 * Seconds as `1h 02m`, `3m 07s` or `12s`.
 *
 * @example
 * ```ts
 * formatDuration(187); // "3m 07s"
 * ```
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (n: number) => String(n).padStart(2, "0");
  if (s >= 3600) return `${Math.floor(s / 3600)}h ${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  return `${s}s`;
}
