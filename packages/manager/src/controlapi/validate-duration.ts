// Validation of a protobuf Duration in a spec: well-formed (whole seconds, nanos within a second),
// not negative, and within the bounds the field allows. Every error names the field.
import { InvalidArgumentError, type Duration } from "@shoal/shared";

/** A bound on a duration: in milliseconds, and as the error message says it. */
export interface DurationBound {
  readonly ms: number;
  readonly text: string;
}

export interface DurationBounds {
  readonly min?: DurationBound;
  readonly max?: DurationBound;
}

/** protobuf's own limit for google.protobuf.Duration: about 10,000 years. */
const MAX_SECONDS = 315_576_000_000;

/** Refuses a malformed, negative or out-of-bounds duration; an unset one (undefined) passes. */
export function validateDuration(d: Duration | undefined, field: string, bounds: DurationBounds = {}): void {
  if (d === undefined) return;
  const { seconds, nanos } = d;
  if (!Number.isSafeInteger(seconds) || !Number.isInteger(nanos) || Math.abs(nanos) > 999_999_999) {
    throw new InvalidArgumentError(
      `is not a valid duration (seconds ${seconds}, nanos ${nanos}: whole seconds and at most 999999999 nanos)`,
      { field },
    );
  }
  if (seconds < 0 || nanos < 0) throw new InvalidArgumentError("cannot be negative", { field });
  if (seconds > MAX_SECONDS) throw new InvalidArgumentError("is longer than 10000 years", { field });
  const ms = seconds * 1000 + nanos / 1e6;
  if (bounds.min !== undefined && ms < bounds.min.ms) {
    throw new InvalidArgumentError(`must be at least ${bounds.min.text}`, { field });
  }
  if (bounds.max !== undefined && ms > bounds.max.ms) {
    throw new InvalidArgumentError(`must be at most ${bounds.max.text}`, { field });
  }
}
