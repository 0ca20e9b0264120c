// Bundles the `shoal` command into one ESM file, dist/shoal.mjs: workspace packages from their
// TypeScript sources and every third-party package, so the file runs with Node alone. Startup stays
// fast because commands load their code only when they run (dynamic imports stay in the bundle).
import { build } from "esbuild";
import { readFile } from "node:fs/promises";
import { dashboardAssetsPlugin } from "../dashboard/build-page.mjs";

const pkg = JSON.parse(await readFile(new URL("./package.json", import.meta.url), "utf8"));

// dockerode's SSH transport (ssh2) probes optional native add-ons inside try/catch; Shoal talks to
// Docker over a unix socket or TCP, so those stay out of the bundle and are never loaded.
const optionalNative = ["cpu-features", "*.node"];

await build({
  entryPoints: [new URL("./src/main.ts", import.meta.url).pathname],
  outfile: new URL("./dist/shoal.mjs", import.meta.url).pathname,
  bundle: true,
  splitting: false,
  platform: "node",
  target: "node20",
  format: "esm",
  conditions: ["@shoal/source"],
  sourcemap: "linked",
  external: optionalNative,
  // The dashboard's page, built now and embedded (packages/dashboard/build-page.mjs).
  plugins: [dashboardAssetsPlugin()],
  // CommonJS packages inside an ESM bundle still call require() for Node's built-ins and read
  // __dirname (ssh2, under dockerode); give them both.
  banner: {
    js: [
      'import { createRequire as __shoalRequire } from "node:module";',
      'import { fileURLToPath as __shoalPath } from "node:url";',
      "const require = __shoalRequire(import.meta.url);",
      "const __filename = __shoalPath(import.meta.url);",
      'const __dirname = __shoalPath(new URL(".", import.meta.url));',
    ].join(" "),
  },
  define: { SHOAL_BUILD_VERSION: JSON.stringify(pkg.version) },
  logLevel: "warning",
});
