// Plain-text tables as the docker CLI prints them: upper-case headers, columns padded by three spaces.
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]! + 3)))
      .join("")
      .trimEnd();
  return [line(headers), ...rows.map(line)].join("\n") + "\n";
}

/** "READY" -> "Ready", as docker shows enum values. */
export function titleCase(name: string | undefined): string {
  if (!name) return "";
  return name.charAt(0) + name.slice(1).toLowerCase();
}
