// Builds the dashboard's page (src/app) with esbuild, in memory: index.html, app.js and app.css.
// The manager serves these files; the `shoal` bundle embeds them (dashboardAssetsPlugin, used by
// packages/cli/build.mjs) and a run from the sources builds them on first use (src/load-assets.ts).
import { buildSync } from "esbuild";
import { readFileSync } from "node:fs";

const here = (path) => new URL(path, import.meta.url).pathname;

/** The page's files by URL path: { "/": { type, text }, "/app.js": ..., "/app.css": ... }. */
export function buildDashboardAssets() {
  const result = buildSync({
    entryPoints: { app: here("./src/app/main.tsx") },
    outdir: "/",
    write: false,
    bundle: true,
    minify: true,
    format: "iife",
    platform: "browser",
    target: ["chrome110", "firefox110", "safari16"],
    jsx: "automatic",
    jsxImportSource: "preact",
    tsconfig: here("./src/app/tsconfig.json"),
    loader: { ".css": "css" },
    legalComments: "none",
    logLevel: "warning",
  });
  const assets = {
    "/": { type: "text/html; charset=utf-8", text: readFileSync(here("./src/app/index.html"), "utf8") },
  };
  for (const file of result.outputFiles) {
    const name = file.path.slice(file.path.lastIndexOf("/"));
    const type = name.endsWith(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8";
    assets[name] = { type, text: file.text };
  }
  return assets;
}

/** An esbuild plugin that replaces src/load-assets.ts with the page built now, so the bundle holds it. */
export function dashboardAssetsPlugin() {
  return {
    name: "shoal-dashboard-assets",
    setup(build) {
      build.onLoad({ filter: /[\\/]dashboard[\\/]src[\\/]load-assets\.ts$/ }, () => ({
        contents: `export function loadAssets() { return ${JSON.stringify(buildDashboardAssets())}; }`,
        loader: "js",
      }));
    },
  };
}
