// What a PullImageRequest may ask for, and the order the leader gets from it.
import { describe, expect, it } from "vitest";
import { PullImageRequest, RegistryAuth, durationFromMs } from "@shoal/shared";
import { imagePullOrder, withDefaultTag } from "../../src/controlapi/validate-image-pull.js";

const request = (fields: Partial<PullImageRequest>): PullImageRequest => PullImageRequest.fromPartial(fields);

describe("imagePullOrder", () => {
  it("adds :latest to a reference without a tag or digest, as docker pull does", () => {
    const digest = `sha256:${"0".repeat(64)}`;
    expect(withDefaultTag("busybox")).toBe("busybox:latest");
    expect(withDefaultTag("registry:5000/team/app")).toBe("registry:5000/team/app:latest");
    expect(withDefaultTag("registry:5000/app:1.2")).toBe("registry:5000/app:1.2");
    expect(withDefaultTag(`app@${digest}`)).toBe(`app@${digest}`);
  });

  it("keeps the credentials and platform, and defaults the timeout to 5 minutes", () => {
    const auth = RegistryAuth.fromPartial({ username: "u", password: "p" });
    expect(imagePullOrder(request({ image: "app", auth, platform: "linux/arm64/v8" }))).toEqual({
      image: "app:latest",
      auth,
      platform: "linux/arm64/v8",
      timeoutMs: 300_000,
    });
    expect(imagePullOrder(request({ image: "app:1", timeout: durationFromMs(1500) })).timeoutMs).toBe(1500);
  });

  it("refuses a missing or bad reference, a bad platform and a timeout out of bounds, naming the field", () => {
    expect(() => imagePullOrder(request({}))).toThrow("image: is required");
    expect(() => imagePullOrder(request({ image: "UPPER/case" }))).toThrow(
      'image: "UPPER/case" is not a valid image reference',
    );
    expect(() => imagePullOrder(request({ image: "app", platform: "linux//amd64" }))).toThrow(/^platform: /);
    expect(() => imagePullOrder(request({ image: "app", timeout: durationFromMs(500) }))).toThrow(
      "timeout: must be at least 1 second",
    );
  });
});
