// Validation of label keys (of services, their containers and the cluster). As Docker's: any
// text without whitespace or control characters; Shoal also caps the length.
import { InvalidArgumentError } from "@shoal/shared";

export const MAX_LABEL_KEY_LENGTH = 255;

const BAD_KEY_CHAR = /[\s\p{Cc}]/u;

/** Refuses an empty key, one with whitespace or control characters, or one over the length cap. */
export function validateLabelKeys(labels: Readonly<Record<string, string>> | undefined, field: string): void {
  for (const key of Object.keys(labels ?? {})) {
    if (key === "") throw new InvalidArgumentError("a label key cannot be empty", { field });
    if (key.length > MAX_LABEL_KEY_LENGTH) {
      throw new InvalidArgumentError(
        `the label key "${key.slice(0, 32)}..." is longer than ${MAX_LABEL_KEY_LENGTH} characters`,
        { field },
      );
    }
    if (BAD_KEY_CHAR.test(key)) {
      throw new InvalidArgumentError(
        `${JSON.stringify(key)} is not a valid label key (whitespace or control characters)`,
        {
          field,
        },
      );
    }
  }
}
