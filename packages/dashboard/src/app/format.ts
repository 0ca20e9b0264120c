// How figures show in the tables.

export function cpus(nanoCpus: number): string {
  return (nanoCpus / 1e9).toFixed(2).replace(/\.?0+$/, "") || "0";
}

export function bytes(count: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

/** An RFC 3339 time as "YYYY-MM-DD HH:MM:SS" (UTC). */
export function time(rfc3339: string): string {
  return rfc3339 ? rfc3339.replace("T", " ").replace(/(\.\d+)?(Z|[+-]\d\d:\d\d)$/, "") : "";
}
