#!/usr/bin/env node
// The `shoal` command: a thin launcher for the bundle that `pnpm build` writes.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bundle = new URL("../dist/shoal.mjs", import.meta.url);
if (!existsSync(fileURLToPath(bundle))) {
  process.stderr.write("shoal: the command is not built yet; run `pnpm setup` (or `pnpm build`) in the repository\n");
  process.exit(1);
}
await import(bundle.href);
