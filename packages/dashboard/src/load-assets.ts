// The page's files, built from the sources on first use (a run from the sources: tests, tsx). The
// `shoal` bundle replaces this module with the files built at bundle time (build-page.mjs).
import { createRequire } from "node:module";

export interface BuiltAsset {
  readonly type: string;
  readonly text: string;
}

export function loadAssets(): Readonly<Record<string, BuiltAsset>> {
  // The build script's name is the dashboard's own: should this module ever end up in the bundle
  // unreplaced, the path (relative to the bundle) finds nothing instead of another package's build.
  const load = createRequire(import.meta.url);
  const build = load("../build-page.mjs") as { buildDashboardAssets(): Record<string, BuiltAsset> };
  return build.buildDashboardAssets();
}
