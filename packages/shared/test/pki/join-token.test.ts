import { describe, expect, it } from "vitest";
import {
  JoinTokenError,
  equalInConstantTime,
  joinTokenRole,
  newJoinToken,
  parseJoinToken,
  verifyCaAgainstToken,
} from "../../src/pki/index.js";
import { newRoot } from "./fixtures.js";

const DIGEST = "ab".repeat(32);

function refusal(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err: unknown) {
    if (err instanceof JoinTokenError) return err.reason;
    throw err;
  }
  return undefined;
}

/** The token with one character of its digest part changed. */
function tamperDigest(token: string): string {
  const at = "SWMTKN-1-".length + 10;
  return token.slice(0, at) + (token[at] === "0" ? "1" : "0") + token.slice(at + 1);
}

describe("join tokens", () => {
  it("look like Swarm's: SWMTKN-1-<50 base-36 digest>-<25 base-36 secret>", () => {
    const token = newJoinToken(DIGEST);
    expect(token).toMatch(/^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
  });

  it("carry the CA digest, which parses back", () => {
    expect(parseJoinToken(newJoinToken(DIGEST)).caDigest).toBe(DIGEST);
    expect(parseJoinToken(newJoinToken("00".repeat(32))).caDigest).toBe("00".repeat(32));
  });

  it("take their secret from the injected randomness", () => {
    const zero = newJoinToken(DIGEST, (n) => new Uint8Array(n));
    expect(parseJoinToken(zero).secret).toBe("0".repeat(25));
    const max = newJoinToken(DIGEST, (n) => new Uint8Array(n).fill(255));
    expect(parseJoinToken(max).secret).toBe("f5lxx1zz5pnorynqglhzmsp33");
    expect(newJoinToken(DIGEST)).not.toBe(newJoinToken(DIGEST));
  });

  it("refuse malformed input with a clear reason", () => {
    const good = newJoinToken(DIGEST);
    for (const bad of [
      "",
      "hello",
      good.replace("SWMTKN", "SWMTKX"),
      good.replace("SWMTKN-1", "SWMTKN-2"),
      good.slice(0, -1),
      `${good}0`,
      good.toUpperCase(),
      `${good}-extra`,
      "SWMTKN-1-abc-def",
    ]) {
      expect(
        refusal(() => parseJoinToken(bad)),
        bad,
      ).toBe("malformed");
    }
    expect(() => newJoinToken("not-hex")).toThrow(JoinTokenError);
  });
});

describe("joinTokenRole (manager side)", () => {
  const tokens = { worker: newJoinToken(DIGEST), manager: newJoinToken(DIGEST) };

  it("admits each token as its role", () => {
    expect(joinTokenRole(tokens.worker, tokens, DIGEST)).toBe("worker");
    expect(joinTokenRole(tokens.manager, tokens, DIGEST)).toBe("manager");
  });

  it("refuses a rotated token; the other role's token keeps working", () => {
    const rotated = { ...tokens, worker: newJoinToken(DIGEST) };
    expect(refusal(() => joinTokenRole(tokens.worker, rotated, DIGEST))).toBe("unknown-secret");
    expect(joinTokenRole(rotated.worker, rotated, DIGEST)).toBe("worker");
    expect(joinTokenRole(tokens.manager, rotated, DIGEST)).toBe("manager");
  });

  it("refuses a token whose digest was tampered with, or that pins another CA", () => {
    expect(refusal(() => joinTokenRole(tamperDigest(tokens.worker), tokens, DIGEST))).toBe("wrong-ca");
    const other = newJoinToken("cd".repeat(32));
    expect(refusal(() => joinTokenRole(other, tokens, DIGEST))).toBe("wrong-ca");
  });

  it("refuses a token made with a right digest but an unknown secret", () => {
    expect(refusal(() => joinTokenRole(newJoinToken(DIGEST), tokens, DIGEST))).toBe("unknown-secret");
  });

  it("admits nobody when the cluster has no token for a role", () => {
    const none = { worker: "", manager: tokens.manager };
    expect(refusal(() => joinTokenRole(tokens.worker, none, DIGEST))).toBe("unknown-secret");
  });

  it("refuses with permission denied, or invalid argument when malformed", () => {
    try {
      joinTokenRole(newJoinToken(DIGEST), tokens, DIGEST);
    } catch (err: unknown) {
      expect((err as JoinTokenError).code).toBe("PERMISSION_DENIED");
    }
    try {
      joinTokenRole("junk", tokens, DIGEST);
    } catch (err: unknown) {
      expect((err as JoinTokenError).code).toBe("INVALID_ARGUMENT");
    }
  });
});

describe("verifyCaAgainstToken (joining side)", () => {
  it("accepts the CA certificate the token pins", async () => {
    const root = await newRoot();
    expect(() => verifyCaAgainstToken(root.certPem, newJoinToken(root.digest))).not.toThrow();
  });

  it("refuses another CA's certificate (a manager of another cluster, or a man in the middle)", async () => {
    const root = await newRoot();
    const impostor = await newRoot();
    expect(refusal(() => verifyCaAgainstToken(impostor.certPem, newJoinToken(root.digest)))).toBe("wrong-ca");
  });

  it("refuses when the token's digest was tampered with", async () => {
    const root = await newRoot();
    const token = tamperDigest(newJoinToken(root.digest));
    expect(refusal(() => verifyCaAgainstToken(root.certPem, token))).toBe("wrong-ca");
  });
});

describe("equalInConstantTime", () => {
  it("compares strings of any length", () => {
    expect(equalInConstantTime("abc", "abc")).toBe(true);
    expect(equalInConstantTime("abc", "abd")).toBe(false);
    expect(equalInConstantTime("abc", "abcd")).toBe(false);
    expect(equalInConstantTime("", "")).toBe(true);
  });
});
