// Lint: typescript-eslint's recommended rules, plus the workspace's boundaries:
// no deep imports into another package, no import cycles, dockerode only in the Docker executor;
// and in the manager, time only through the injected Clock.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import importX, { createNodeResolver } from "eslint-plugin-import-x";

const USE_CLOCK =
  "Take time from the injected Clock (@shoal/shared: clock.now(), clock.setTimeout(), clock.sleep(), " +
  "every(clock, ms, fn)), so that tests drive it with a ManualClock.";

const deepImports = {
  patterns: [
    {
      group: ["@shoal/*/*"],
      message: "Import a workspace package by its name only; its index.ts lists what it exports.",
    },
    {
      regex: "^(\\.\\./)+(packages/|test/e2e/|[a-z-]+/src/)",
      message: "Do not reach into another package by a relative path; import it by name.",
    },
  ],
};

export default tseslint.config(
  {
    ignores: ["**/node_modules/**", "**/dist/**", "packages/shared/src/gen/**", "coverage/**", ".shoal/**"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts", "**/*.js", "**/*.mjs"],
    plugins: { "import-x": importX },
    languageOptions: { globals: { process: "readonly", console: "readonly", Buffer: "readonly", URL: "readonly" } },
    settings: {
      "import-x/extensions": [".ts", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
      // Sources import each other with ".js" suffixes (NodeNext); resolve them to the ".ts" files.
      "import-x/resolver-next": [
        createNodeResolver({
          extensionAlias: { ".js": [".ts", ".js"] },
          conditionNames: ["@shoal/source", "import", "node", "default"],
        }),
      ],
    },
    rules: {
      "no-restricted-imports": ["error", deepImports],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/consistent-type-imports": "error",
      "no-console": "off",
    },
  },
  {
    // Only the Docker executor speaks to Docker; the rest of the agent sees the Executor interface.
    files: ["packages/**/*.ts"],
    ignores: ["packages/agent/src/exec/docker/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          ...deepImports,
          paths: [{ name: "dockerode", message: "Only packages/agent/src/exec/docker/ imports dockerode." }],
        },
      ],
    },
  },
  {
    // One clock in the manager: no timers or wall-clock reads but the injected Clock's.
    files: ["packages/manager/src/**/*.ts"],
    rules: {
      "no-restricted-globals": [
        "error",
        ...["setTimeout", "setInterval", "clearTimeout", "clearInterval"].map((name) => ({
          name,
          message: USE_CLOCK,
        })),
      ],
      "no-restricted-properties": ["error", { object: "Date", property: "now", message: USE_CLOCK }],
      "no-restricted-syntax": [
        "error",
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: `new Date() reads the wall clock. ${USE_CLOCK}`,
        },
      ],
    },
  },
);
