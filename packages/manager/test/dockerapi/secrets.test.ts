// /secrets and /configs over HTTP, on the Control API's own handlers.
import { afterEach, describe, expect, it } from "vitest";
import { MemoryStore } from "../../src/state/store/index.js";
import { request, serveRoutes, storeControl } from "./store-control.js";

const b64 = (text: string): string => Buffer.from(text).toString("base64");

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

async function serve(): Promise<{ base: string; store: MemoryStore }> {
  const store = new MemoryStore();
  const served = await serveRoutes(storeControl(store));
  close = served.close;
  return { base: served.base, store };
}

describe("Docker API: secrets", () => {
  it("creates, lists, inspects by name, updates labels and deletes, never showing the data", async () => {
    const { base, store } = await serve();
    const created = await request(base, "POST", "/v1.41/secrets/create", {
      Name: "db_password",
      Labels: { "com.docker.stack.namespace": "app" },
      Data: b64("hunter2"),
    });
    expect(created.status).toBe(201);
    const id = (created.json as { ID: string }).ID;
    expect(Buffer.from(store.view((tx) => tx.secrets.get(id)!.spec!.data)).toString()).toBe("hunter2");

    const shown = await request(base, "GET", "/v1.41/secrets/db_password");
    expect(shown.status).toBe(200);
    expect(shown.json).toMatchObject({ ID: id, Spec: { Name: "db_password" }, Version: { Index: expect.any(Number) } });
    expect((shown.json as { Spec: Record<string, unknown> }).Spec["Data"]).toBeUndefined();

    const filter = encodeURIComponent(JSON.stringify({ names: { db_password: true } }));
    const listed = await request(base, "GET", `/v1.41/secrets?filters=${filter}`);
    expect((listed.json as unknown[]).length).toBe(1);
    const label = encodeURIComponent(JSON.stringify({ label: { "com.docker.stack.namespace=other": true } }));
    expect(await request(base, "GET", `/v1.41/secrets?filters=${label}`)).toMatchObject({ json: [] });
    expect(JSON.stringify(listed.json)).not.toContain(b64("hunter2"));

    const version = (shown.json as { Version: { Index: number } }).Version.Index;
    const updated = await request(base, "POST", `/v1.41/secrets/${id}/update?version=${version}`, {
      Name: "db_password",
      Labels: { rotated: "yes" },
    });
    expect(updated.status).toBe(200);
    const renamed = await request(base, "POST", `/v1.41/secrets/${id}/update?version=${version + 1}`, {
      Name: "other",
    });
    expect(renamed.status).toBe(400);

    expect((await request(base, "DELETE", `/v1.41/secrets/${id}`)).status).toBe(204);
    expect((await request(base, "GET", `/v1.41/secrets/${id}`)).status).toBe(404);
  });

  it("refuses bad input with the field named: Driver, bad base64, empty data, a taken name (409)", async () => {
    const { base } = await serve();
    const driver = await request(base, "POST", "/secrets/create", {
      Name: "a",
      Data: b64("x"),
      Driver: { Name: "vault" },
    });
    expect(driver).toMatchObject({ status: 400, json: { message: expect.stringContaining("Driver") } });
    const bad = await request(base, "POST", "/secrets/create", { Name: "a", Data: "***" });
    expect(bad).toMatchObject({ status: 400, json: { message: expect.stringContaining("Data") } });
    const empty = await request(base, "POST", "/secrets/create", { Name: "a" });
    expect(empty).toMatchObject({ status: 400, json: { message: expect.stringContaining("spec.data") } });
    expect((await request(base, "POST", "/secrets/create", { Name: "a", Data: b64("x") })).status).toBe(201);
    expect((await request(base, "POST", "/secrets/create", { Name: "a", Data: b64("y") })).status).toBe(409);
  });

  it("services take Secrets and Configs both ways; removing one in use is a 409", async () => {
    const { base } = await serve();
    const secret = (await request(base, "POST", "/secrets/create", { Name: "pw", Data: b64("x") })).json as {
      ID: string;
    };
    const config = (await request(base, "POST", "/configs/create", { Name: "app.conf", Data: b64("a=1") })).json as {
      ID: string;
    };
    const shownConfig = await request(base, "GET", "/configs/app.conf");
    expect(shownConfig.json).toMatchObject({ Spec: { Name: "app.conf", Data: b64("a=1") } });

    // As `docker service create --secret pw --config source=app.conf,target=/etc/app.conf` sends them.
    const created = await request(base, "POST", "/services/create", {
      Name: "web",
      TaskTemplate: {
        ContainerSpec: {
          Image: "shoal-base:1",
          Secrets: [{ File: { Name: "pw", UID: "0", GID: "0", Mode: 0o444 }, SecretID: secret.ID, SecretName: "pw" }],
          Configs: [
            {
              File: { Name: "/etc/app.conf", UID: "0", GID: "0", Mode: 0o444 },
              ConfigID: config.ID,
              ConfigName: "app.conf",
            },
          ],
        },
      },
    });
    expect(created.status).toBe(201);
    const service = await request(base, "GET", "/services/web");
    const c = (service.json as { Spec: { TaskTemplate: { ContainerSpec: Record<string, unknown> } } }).Spec.TaskTemplate
      .ContainerSpec;
    expect(c["Secrets"]).toEqual([
      { File: { Name: "pw", UID: "0", GID: "0", Mode: 0o444 }, SecretID: secret.ID, SecretName: "pw" },
    ]);
    expect(c["Configs"]).toEqual([
      { File: { Name: "/etc/app.conf", UID: "0", GID: "0", Mode: 0o444 }, ConfigID: config.ID, ConfigName: "app.conf" },
    ]);
    expect(JSON.stringify(service.json)).not.toContain("com.shoal.docker.unmapped");

    const inUse = await request(base, "DELETE", "/secrets/pw");
    expect(inUse).toMatchObject({ status: 409, json: { message: expect.stringContaining("in use by service web") } });
    expect((await request(base, "DELETE", `/configs/${config.ID}`)).status).toBe(409);

    const runtime = await request(base, "POST", "/services/create", {
      Name: "cred",
      TaskTemplate: {
        ContainerSpec: {
          Image: "shoal-base:1",
          Configs: [{ Runtime: {}, ConfigID: config.ID, ConfigName: "app.conf" }],
        },
      },
    });
    expect(runtime).toMatchObject({
      status: 400,
      json: { message: expect.stringContaining("TaskTemplate.ContainerSpec.Configs[0].Runtime") },
    });
    const missing = await request(base, "POST", "/services/create", {
      Name: "lost",
      TaskTemplate: { ContainerSpec: { Image: "shoal-base:1", Secrets: [{ SecretName: "nope" }] } },
    });
    expect(missing).toMatchObject({ status: 400, json: { message: expect.stringContaining("secrets[0]") } });
  });
});
