// CertificateRenewer's timing with a manual clock and a fake CA: when it renews, what it checks,
// how it retries, renewNow and stop.
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../../src/async/clock.js";
import { NodeRole } from "../../src/api.js";
import { CertificateAuthority, readCsr, type CertRole } from "../../src/pki/index.js";
import {
  CertificateRenewer,
  MAX_SLEEP_MS,
  MIN_RENEWAL_INTERVAL_MS,
  TlsMaterial,
  type CertificateIssuer,
  type TlsFiles,
} from "../../src/tls/index.js";
import { type IssueNodeCertificateResponse } from "../../src/api.js";
import { CLUSTER } from "./fixtures.js";

const START = Date.parse("2026-03-01T12:00:00Z");
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
/** Key generation and signing on a loaded 2-core machine can take more than the default second. */
const POLL = { timeout: 10_000 };

let root: CertificateAuthority;
beforeAll(async () => {
  root = await CertificateAuthority.create({ clusterId: CLUSTER, now: START - DAY });
});

const stops: (() => void)[] = [];
afterEach(() => {
  for (const stop of stops.splice(0)) stop();
});

/** Lets the renewer's promises (key generation, signing, checks) run between clock steps. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

interface FakeCa {
  readonly issue: CertificateIssuer;
  readonly calls: number[];
  /** Fail the next n calls. */
  failNext(n: number): void;
  role: CertRole;
}

function fakeCa(clock: ManualClock, lifetimeMs = 90 * DAY, signer = root): FakeCa {
  let failures = 0;
  const ca: FakeCa = {
    calls: [],
    role: "worker",
    failNext: (n) => void (failures = n),
    issue: async (request): Promise<IssueNodeCertificateResponse> => {
      ca.calls.push(clock.now());
      if (failures > 0) {
        failures--;
        throw new Error("manager unavailable");
      }
      expect(request.token).toBe(""); // renewal carries no token
      await readCsr(Buffer.from(request.csr).toString());
      const { certChainPem } = await signer.issue(Buffer.from(request.csr).toString(), {
        nodeId: "w1",
        role: ca.role,
        clusterId: CLUSTER,
        now: clock.now(),
        lifetimeMs,
      });
      return {
        nodeId: "w1",
        role: ca.role === "manager" ? NodeRole.MANAGER : NodeRole.WORKER,
        certificateChain: Buffer.from(certChainPem),
        caCert: Buffer.from(root.certPem),
      };
    },
  };
  return ca;
}

async function initial(lifetimeMs = 90 * DAY): Promise<TlsMaterial> {
  const { createKeyAndCsr } = await import("../../src/pki/index.js");
  const { keyPem, csrPem } = await createKeyAndCsr();
  const { certChainPem } = await root.issue(csrPem, {
    nodeId: "w1",
    role: "worker",
    clusterId: CLUSTER,
    now: START,
    lifetimeMs,
  });
  return new TlsMaterial({ caPem: root.certPem, certChainPem, keyPem });
}

function start(renewer: CertificateRenewer): Promise<void> {
  const done = renewer.run();
  stops.push(() => renewer.stop());
  return done;
}

describe("CertificateRenewer", () => {
  it("renews at the drawn point of 50-80% of the validity, not before, then again for the new one", async () => {
    const clock = new ManualClock(START);
    const material = await initial();
    const ca = fakeCa(clock);
    const saved: TlsFiles[] = [];
    const renewer = new CertificateRenewer({
      material,
      issue: ca.issue,
      clock,
      random: () => 0.5, // 65% of the validity
      save: async (files) => void saved.push(files),
    });
    const { notBefore, notAfter } = material.identity;
    const due = notBefore.getTime() + 0.65 * (notAfter.getTime() - notBefore.getTime());
    const first = material.identity.serialNumber;
    void start(renewer);
    await settle();
    // Long waits are cut into steps of at most an hour (Node timers cannot wait 45 days).
    expect(clock.pendingTimers).toBe(1);
    clock.advance(due - clock.now() - 1);
    await settle();
    expect(ca.calls).toEqual([]);
    clock.advance(1);
    await settle();
    await expect.poll(() => renewer.renewals, POLL).toBe(1);
    expect(ca.calls).toEqual([due]);
    expect(material.identity.serialNumber).not.toBe(first);
    expect(saved).toEqual([material.files]);

    // The next renewal follows the new certificate's validity.
    const renewed = material.identity;
    const nextDue = renewed.notBefore.getTime() + 0.65 * (renewed.notAfter.getTime() - renewed.notBefore.getTime());
    clock.advance(nextDue - clock.now() - MAX_SLEEP_MS);
    await settle();
    expect(renewer.renewals).toBe(1);
    clock.advance(MAX_SLEEP_MS);
    await settle();
    await expect.poll(() => renewer.renewals, POLL).toBe(2);
  });

  it("with a 2-minute certificate (back-dated 12 s), renews at 50% every 66 - 12 = 54 s, keeping its node id", async () => {
    const clock = new ManualClock(START);
    const material = await initial(2 * 60_000);
    const ca = fakeCa(clock, 2 * 60_000);
    const renewer = new CertificateRenewer({ material, issue: ca.issue, clock, random: () => 0 });
    void start(renewer);
    for (let i = 1; i <= 3; i++) {
      await settle();
      clock.advance(54_000);
      await expect.poll(() => renewer.renewals, POLL).toBe(i);
      expect(material.identity.nodeId).toBe("w1");
    }
    expect(ca.calls.map((t) => t - START)).toEqual([54_000, 108_000, 162_000]);
  });

  it("waits at least MIN_RENEWAL_INTERVAL_MS between renewals when each new certificate is already due", async () => {
    const clock = new ManualClock(START);
    const material = await initial();
    // The CA's clock stays at START: what it issues is due at once on the node's later clock.
    const ca = fakeCa(new ManualClock(START));
    const renewer = new CertificateRenewer({ material, issue: ca.issue, clock, random: () => 0 });
    void start(renewer);
    await settle();
    clock.advance(renewer.delayMs());
    await expect.poll(() => renewer.renewals, POLL).toBe(1);
    for (let i = 0; i < 5; i++) await settle();
    expect(renewer.renewals).toBe(1);
    clock.advance(MIN_RENEWAL_INTERVAL_MS);
    await expect.poll(() => renewer.renewals, POLL).toBe(2);
    expect(ca.calls).toHaveLength(2);
  });

  it("retries a failed renewal with growing backoff, then goes back to the schedule", async () => {
    const clock = new ManualClock(START);
    const material = await initial();
    const ca = fakeCa(clock);
    const renewer = new CertificateRenewer({
      material,
      issue: ca.issue,
      clock,
      random: () => 0.5, // no jitter in the backoff either: exactly 1 s, 2 s, 4 s
    });
    ca.failNext(3);
    void start(renewer);
    renewer.renewNow();
    await settle();
    for (const [i, wait] of [1_000, 2_000, 4_000].entries()) {
      await expect.poll(() => renewer.failures, POLL).toBe(i + 1);
      clock.advance(wait);
      await settle();
    }
    await expect.poll(() => renewer.renewals, POLL).toBe(1);
    expect(ca.calls.map((t) => t - START)).toEqual([0, 1_000, 3_000, 7_000]);
    expect(renewer.delayMs()).toBeGreaterThan(40 * DAY);
  });

  it("renewNow renews at once (a role change travels by renewal)", async () => {
    const clock = new ManualClock(START);
    const material = await initial();
    const ca = fakeCa(clock);
    const roles: string[] = [];
    const renewer = new CertificateRenewer({
      material,
      issue: ca.issue,
      clock,
      onRenewed: (identity) => roles.push(identity.role),
    });
    void start(renewer);
    await settle();
    ca.role = "manager";
    renewer.renewNow();
    await expect.poll(() => roles, POLL).toEqual(["manager"]);
    expect(material.identity.role).toBe("manager");
    expect(clock.now()).toBe(START);
  });

  it("refuses an answer that does not chain to the roots it trusts, keeping its certificate", async () => {
    const clock = new ManualClock(START);
    const material = await initial();
    const impostor = await CertificateAuthority.create({ clusterId: CLUSTER, now: START - DAY });
    const ca = fakeCa(clock, 90 * DAY, impostor);
    const before = material.files;
    const renewer = new CertificateRenewer({ material, issue: ca.issue, clock, random: () => 0.5 });
    void start(renewer);
    renewer.renewNow();
    await expect.poll(() => renewer.failures, POLL).toBe(1);
    expect(material.files).toBe(before);
  });

  it("stop() ends run() and is idempotent; an aborted signal does too", async () => {
    const clock = new ManualClock(START);
    const material = await initial();
    const renewer = new CertificateRenewer({ material, issue: fakeCa(clock).issue, clock });
    const done = renewer.run();
    await settle();
    renewer.stop();
    renewer.stop();
    await expect(done).resolves.toBeUndefined();
    expect(clock.pendingTimers).toBe(0);

    const controller = new AbortController();
    const other = new CertificateRenewer({ material, issue: fakeCa(clock).issue, clock });
    const running = other.run(controller.signal);
    controller.abort();
    await expect(running).resolves.toBeUndefined();
  });
});
