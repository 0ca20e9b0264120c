// The page's files, built from the sources on first use (a run from the sources: tests, tsx). The
// `shoal` bundle replaces this module with the files built at bundle time (build.mjs).
import { createRequire } from "node:module";

export interface BuiltAsset {
  readonly type: string;
  readonly text: string;
}

export function loadAssets(): Readonly<Record<string, BuiltAsset>> {
  const load = createRequire(import.meta.url);
  const build = load("../build.mjs") as { buildDashboardAssets(): Record<string, BuiltAsset> };
  return build.buildDashboardAssets();
}
