import { describe, expect, it } from "vitest";
import { Config } from "@shoal/shared";
import { listFilters, secretJson, secretPretty, secretTable } from "../../src/commands/secret.js";

const config = Config.fromPartial({
  id: "c0nf1g000000000000000000001",
  meta: { createdAt: new Date("2026-12-01T10:00:00Z"), updatedAt: new Date("2026-12-01T11:00:00Z") },
  spec: { annotations: { name: "app.conf", labels: { team: "a" } }, data: new TextEncoder().encode("port=80") },
});

describe("shoal secret|config output", () => {
  it("ls: a table and a stable JSON without data", () => {
    expect(secretTable([config])).toMatch(
      /^ID\s+NAME\s+CREATED\s+UPDATED\nc0nf1g\w*\s+app\.conf\s+2026-12-01T10:00:00\.000Z/,
    );
    expect(secretJson(config)).toEqual({
      id: config.id,
      name: "app.conf",
      labels: { team: "a" },
      createdAt: "2026-12-01T10:00:00.000Z",
      updatedAt: "2026-12-01T11:00:00.000Z",
    });
  });

  it("inspect --pretty shows a config's data, and never a secret's", () => {
    expect(secretPretty("config", config)).toMatch(/Name:\s+app\.conf\nLabels:\n - team=a\n[\s\S]*Data:\nport=80\n$/);
    expect(secretPretty("secret", config)).not.toContain("port=80");
  });

  it("--filter name=, id=, label= as the Control API's filters; anything else names the flag", () => {
    expect(listFilters(["name=db", "id=abc", "label=team", "label=env=prod"])).toEqual({
      names: [],
      namePrefixes: ["db"],
      idPrefixes: ["abc"],
      labels: { team: "", env: "prod" },
    });
    expect(() => listFilters(["driver=x"])).toThrow("--filter");
    expect(() => listFilters(["name"])).toThrow("--filter");
  });
});
