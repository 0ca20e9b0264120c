import { describe, expect, it } from "vitest";
import { MAX_LABEL_KEY_LENGTH, validateLabelKeys } from "../../src/controlapi/validate-labels.js";

describe("validateLabelKeys", () => {
  it("accepts Docker's keys, network labels included", () => {
    expect(() =>
      validateLabelKeys({ app: "", "com.example.tier": "x", "com.shoal.network/my_net-": "{}", é: "" }, "l"),
    ).not.toThrow();
    expect(() => validateLabelKeys(undefined, "l")).not.toThrow();
  });

  it("refuses empty keys, whitespace and control characters, and keys over the cap", () => {
    expect(() => validateLabelKeys({ "": "x" }, "l")).toThrow("l: a label key cannot be empty");
    expect(() => validateLabelKeys({ "a b": "x" }, "l")).toThrow(/^l: "a b" is not a valid label key/);
    expect(() => validateLabelKeys({ "a\nb": "x" }, "l")).toThrow(/is not a valid label key/);
    expect(() => validateLabelKeys({ "\0": "x" }, "l")).toThrow(/is not a valid label key/);
    expect(() => validateLabelKeys({ ["a".repeat(MAX_LABEL_KEY_LENGTH + 1)]: "x" }, "l")).toThrow(
      /is longer than 255 characters/,
    );
  });
});
