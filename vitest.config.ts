import { defineConfig } from "vitest/config";

// Workspace packages resolve to their TypeScript sources through the "@shoal/source" export
// condition, so tests need no build of the libraries (the e2e tests spawn the built `shoal`).
const conditions = ["@shoal/source", "node", "import", "module", "default"];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          // Unit tests, and integration tests of several packages over real sockets (no Docker).
          include: ["packages/*/test/**/*.test.ts", "test/integration/**/*.test.ts"],
          testTimeout: 20_000,
          // Integration set-ups start several managers; on a loaded 2-core machine that takes a while.
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          // Real daemons, namespaces and processes: one file at a time on a 2-core machine.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
