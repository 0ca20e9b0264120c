import {
  DependencyStore,
  ExecErrorReason,
  resolveTaskFiles,
  taskFileRefs,
  withTaskFiles,
  type ExecError,
} from "@shoal/agent";
import { AssignmentAction, Secret, type Task } from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { makeTask } from "../exec/task-fixture.js";

function taskWith(container: object): Task {
  return makeTask({ spec: { container: { image: "shoal-base:1", ...container } } });
}

function thrown(fn: () => unknown): ExecError {
  try {
    fn();
  } catch (err: unknown) {
    return err as ExecError;
  }
  throw new Error("did not throw");
}

describe("taskFileRefs", () => {
  it("puts relative secret names under /run/secrets and config names under /, with Swarm's defaults", () => {
    const task = taskWith({
      secrets: [
        { secretId: "s1", secretName: "db" },
        { secretId: "s1", secretName: "db", file: { name: "conf/pass", uid: "1000", gid: "50", mode: 0o400 } },
        { secretId: "s2", secretName: "tls", file: { name: "/etc/tls/key.pem", uid: "", gid: "", mode: 0 } },
      ],
      configs: [
        { configId: "c1", configName: "nginx.conf" },
        {
          configId: "c1",
          configName: "nginx.conf",
          file: { name: "/etc/nginx/nginx.conf", uid: "0", gid: "0", mode: 0o440 },
        },
      ],
    });
    expect(taskFileRefs(task).map((r) => [r.kind, r.id, r.target, r.uid, r.gid, r.mode.toString(8), r.field])).toEqual([
      ["secret", "s1", "/run/secrets/db", 0, 0, "444", "spec.container.secrets[0]"],
      ["secret", "s1", "/run/secrets/conf/pass", 1000, 50, "400", "spec.container.secrets[1]"],
      ["secret", "s2", "/etc/tls/key.pem", 0, 0, "444", "spec.container.secrets[2]"],
      ["config", "c1", "/nginx.conf", 0, 0, "444", "spec.container.configs[0]"],
      ["config", "c1", "/etc/nginx/nginx.conf", 0, 0, "440", "spec.container.configs[1]"],
    ]);
    expect(taskFileRefs(makeTask())).toEqual([]);
  });

  it("refuses a non-numeric owner, a mode beyond 07777 and a name that names no file, naming the field", () => {
    const uid = thrown(() =>
      taskFileRefs(taskWith({ secrets: [{ secretId: "s1", secretName: "db", file: { name: "db", uid: "root" } }] })),
    );
    expect(uid.reason).toBe(ExecErrorReason.InvalidSpec);
    expect(uid.message).toMatch(/spec\.container\.secrets\[0\]\.file\.uid: "root" is not a numeric id/);
    const mode = thrown(() =>
      taskFileRefs(taskWith({ configs: [{ configId: "c1", configName: "x", file: { name: "x", mode: 0o17777 } }] })),
    );
    expect(mode.message).toMatch(/spec\.container\.configs\[0\]\.file\.mode: 17777 is not a file mode/);
    const name = thrown(() =>
      taskFileRefs(taskWith({ secrets: [{ secretId: "s1", secretName: "db", file: { name: "../secrets/" } }] })),
    );
    expect(name.message).toMatch(/spec\.container\.secrets\[0\]\.file\.name: "\.\.\/secrets\/" names no file/);
  });
});

describe("resolveTaskFiles", () => {
  it("finds each file's data among the secrets held, and names the one missing", () => {
    const store = new DependencyStore();
    store.apply({
      action: AssignmentAction.UPDATE,
      task: undefined,
      config: undefined,
      network: undefined,
      secret: Secret.fromPartial({ id: "s1", spec: { annotations: { name: "db" }, data: Buffer.from("pw") } }),
    });
    const task = taskWith({ secrets: [{ secretId: "s1", secretName: "db" }] });
    expect(resolveTaskFiles(task, store).map((f) => Buffer.from(f.data).toString())).toEqual(["pw"]);

    const missing = taskWith({ configs: [{ configId: "c9", configName: "app.yml" }] });
    const err = thrown(() => resolveTaskFiles(missing, store));
    expect(err.reason).toBe(ExecErrorReason.TaskFiles);
    expect(err.message).toContain(`config "app.yml" (c9, spec.container.configs[0]) is not on this node`);
  });
});

describe("withTaskFiles", () => {
  it("adds a read-only bind mount per file after the mounts already there", () => {
    const config = withTaskFiles(
      { Image: "x", HostConfig: { Mounts: [{ Type: "volume", Source: "data", Target: "/data" }] } },
      [{ source: "/run/shoal/n1/t1/secrets/0-s1", target: "/run/secrets/db" }],
    );
    expect(config.HostConfig?.Mounts).toEqual([
      { Type: "volume", Source: "data", Target: "/data" },
      { Type: "bind", Source: "/run/shoal/n1/t1/secrets/0-s1", Target: "/run/secrets/db", ReadOnly: true },
    ]);
    const plain = { Image: "x" };
    expect(withTaskFiles(plain, [])).toBe(plain);
  });
});
