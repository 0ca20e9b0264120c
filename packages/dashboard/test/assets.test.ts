import { build } from "esbuild";
import { describe, expect, it } from "vitest";
import { dashboardAssets } from "../src/index.js";
// @ts-expect-error: a plain ES module without types (the CLI's build script imports it too).
import { dashboardAssetsPlugin } from "../build-page.mjs";

describe("dashboardAssets", () => {
  it("gives the page, its script and its style sheet, with no inline script or style", () => {
    const assets = dashboardAssets();
    expect([...assets.keys()].sort()).toEqual(["/", "/app.css", "/app.js"]);
    expect(assets.get("/")!.type).toBe("text/html; charset=utf-8");
    expect(assets.get("/app.js")!.type).toBe("text/javascript; charset=utf-8");
    expect(assets.get("/app.css")!.type).toBe("text/css; charset=utf-8");
    const html = assets.get("/")!.body.toString();
    expect(html).toContain('<script defer src="/app.js"></script>');
    expect(html).toContain('<link rel="stylesheet" href="/app.css" />');
    expect(html).not.toMatch(/<style|style=|<script>|\son[a-z]+=/i);
    expect(assets.get("/app.js")!.body.toString()).toContain("nodes-table");
  });

  it("is embedded in a bundle by the esbuild plugin: no build at run time", async () => {
    const result = await build({
      entryPoints: [new URL("../src/index.ts", import.meta.url).pathname],
      bundle: true,
      platform: "node",
      format: "esm",
      write: false,
      plugins: [dashboardAssetsPlugin()],
      logLevel: "silent",
    });
    const bundle = result.outputFiles[0]!.text;
    expect(bundle).not.toContain("build-page.mjs");
    expect(bundle).not.toContain("createRequire");
    const url = `data:text/javascript;base64,${Buffer.from(bundle).toString("base64")}`;
    const embedded = (await import(url)) as { dashboardAssets: typeof dashboardAssets };
    const assets = embedded.dashboardAssets();
    expect([...assets.keys()].sort()).toEqual(["/", "/app.css", "/app.js"]);
    expect(assets.get("/app.js")!.body.equals(dashboardAssets().get("/app.js")!.body)).toBe(true);
  });
});
