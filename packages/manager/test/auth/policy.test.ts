// The policy table, method by method, against the generated service definitions.
import {
  BackupService,
  ContainersService,
  ControlService,
  EventsService,
  DispatcherService,
  LogsService,
  NodeCAService,
  RaftMembershipService,
  RaftTransportService,
} from "@shoal/shared";
import { describe, expect, it } from "vitest";
import { DOCKER_API_RULE, needsStoreManager, ruleFor, type CallerKind } from "../../src/auth/policy.js";

const SERVICES = {
  NodeCAService,
  RaftTransportService,
  RaftMembershipService,
  DispatcherService,
  ControlService,
  LogsService,
  EventsService,
  BackupService,
  ContainersService,
};

const paths = (service: Record<string, { path: string }>): string[] => Object.values(service).map((m) => m.path);
const allowed = (path: string): readonly CallerKind[] => ruleFor(path)?.allow ?? [];

describe("the policy table", () => {
  it("has a rule for every method of every service a manager serves", () => {
    for (const [name, service] of Object.entries(SERVICES)) {
      for (const path of paths(service)) expect(ruleFor(path), `${name} ${path}`).toBeDefined();
    }
  });

  it("refuses what it does not name", () => {
    expect(ruleFor("/shoal.v1.Secret/Steal")).toBeUndefined();
    expect(ruleFor("/shoal.v1.NodeCA/Other")).toBeUndefined();
    expect(ruleFor("garbage")).toBeUndefined();
  });

  it("NodeCA: the roots to anyone; certificates to joining nodes and to nodes renewing, not to clients", () => {
    expect(allowed("/shoal.v1.NodeCA/GetRootCACertificate")).toEqual(["anonymous", "worker", "manager", "client"]);
    expect(allowed("/shoal.v1.NodeCA/IssueNodeCertificate")).toEqual(["anonymous", "worker", "manager"]);
  });

  it("Raft: managers only, and operators to remove one; the transport and Leave need a member, Join a manager", () => {
    for (const path of paths(RaftTransportService)) {
      expect(ruleFor(path)).toMatchObject({ allow: ["manager"], raftMember: true });
    }
    expect(ruleFor(RaftMembershipService.join.path)).toMatchObject({ allow: ["manager"] });
    expect(ruleFor(RaftMembershipService.join.path)?.raftMember).toBeUndefined();
    expect(ruleFor(RaftMembershipService.leave.path)).toMatchObject({ allow: ["client", "manager"], raftMember: true });
  });

  it("Containers: calls for operators, never workers; listening and serving for nodes, each for its own", () => {
    expect(allowed(ContainersService.containerCall.path)).toEqual(["client", "manager"]);
    for (const path of [ContainersService.listenContainerCalls.path, ContainersService.serveContainerCall.path]) {
      expect(ruleFor(path)).toMatchObject({ allow: ["worker", "manager"], ownNodeOnly: true });
    }
  });

  it("Dispatcher: workers and managers, each for its own node; never clients or anonymous", () => {
    for (const path of paths(DispatcherService)) {
      expect(ruleFor(path)).toMatchObject({ allow: ["worker", "manager"], ownNodeOnly: true });
    }
  });

  it("Control and the Docker API: clients and managers, never workers", () => {
    // Except RedeemDashboardLogin: only a manager's dashboard redeems a login link.
    for (const path of paths(ControlService)) {
      expect(allowed(path)).toEqual(path.endsWith("/RedeemDashboardLogin") ? ["manager"] : ["client", "manager"]);
    }
    expect(DOCKER_API_RULE.allow).toEqual(["client", "manager"]);
  });

  it("secrets and configs: operators (and managers on their behalf) only, a demoted manager at once not", () => {
    const methods = [
      ControlService.createSecret,
      ControlService.getSecret,
      ControlService.listSecrets,
      ControlService.updateSecret,
      ControlService.removeSecret,
      ControlService.createConfig,
      ControlService.getConfig,
      ControlService.listConfigs,
      ControlService.updateConfig,
      ControlService.removeConfig,
    ];
    for (const method of methods) {
      const rule = ruleFor(method.path)!;
      expect(rule.allow, method.path).toEqual(["client", "manager"]);
      expect(needsStoreManager(rule, "manager")).toBe(true);
    }
  });

  it("image pulls and inspections: by operators and managers (a demoted manager at once not), reported by each node", () => {
    for (const method of [ControlService.pullImage, ControlService.inspectImage]) {
      const rule = ruleFor(method.path)!;
      expect(rule).toMatchObject({
        allow: ["client", "manager"],
        why: expect.stringContaining("every node") as unknown,
      });
      expect(needsStoreManager(rule, "manager")).toBe(true);
    }
    expect(ruleFor(DispatcherService.reportImagePull.path)).toMatchObject({
      allow: ["worker", "manager"],
      ownNodeOnly: true,
    });
  });

  it("Events and Backup (which holds the CA key): operators and managers only", () => {
    for (const path of [...paths(EventsService), ...paths(BackupService)])
      expect(allowed(path)).toEqual(["client", "manager"]);
  });

  it("Logs: operators read, nodes publish their own", () => {
    expect(allowed(LogsService.subscribeLogs.path)).toEqual(["client", "manager"]);
    expect(ruleFor(LogsService.publishLogs.path)).toMatchObject({ allow: ["worker", "manager"], ownNodeOnly: true });
  });

  it("a manager certificate needs the store's manager role wherever workers may not call", () => {
    expect(needsStoreManager(ruleFor(ControlService.listNodes.path)!, "manager")).toBe(true);
    expect(needsStoreManager(ruleFor(RaftTransportService.processRaftMessage.path)!, "manager")).toBe(true);
    expect(needsStoreManager(ruleFor(DispatcherService.heartbeat.path)!, "manager")).toBe(false);
    expect(needsStoreManager(ruleFor(ControlService.listNodes.path)!, "client")).toBe(false);
  });
});
