// The Secrets: and Configs: sections of `service inspect --pretty`, as docker prints them: each
// reference's target, then its source (and owner and mode when they are not the defaults).
import type { ContainerSpec, FileTarget } from "@shoal/shared";

function fileLines(source: string, file: FileTarget | undefined): string[] {
  const lines = [` Target:\t${file?.name || source}`, `  Source:\t${source}`];
  const owner = `${file?.uid || "0"}:${file?.gid || "0"}`;
  const mode = file?.mode || 0o444;
  if (owner !== "0:0" || mode !== 0o444) lines.push(`  Owner:\t${owner}, mode 0${mode.toString(8)}`);
  return lines;
}

export function secretRefLines(c: ContainerSpec | undefined): string[] {
  const lines: string[] = [];
  if (c?.secrets.length) lines.push("Secrets:", ...c.secrets.flatMap((r) => fileLines(r.secretName, r.file)));
  if (c?.configs.length) lines.push("Configs:", ...c.configs.flatMap((r) => fileLines(r.configName, r.file)));
  return lines;
}
