// The page's files as the manager's dashboard server serves them.
import { loadAssets } from "./load-assets.js";

export interface DashboardAsset {
  /** The Content-Type header. */
  readonly type: string;
  readonly body: Buffer;
}

let cached: ReadonlyMap<string, DashboardAsset> | undefined;

/** The page by URL path: "/" (index.html), "/app.js", "/app.css". Built once, then shared. */
export function dashboardAssets(): ReadonlyMap<string, DashboardAsset> {
  cached ??= new Map(
    Object.entries(loadAssets()).map(([path, asset]) => [path, { type: asset.type, body: Buffer.from(asset.text) }]),
  );
  return cached;
}
