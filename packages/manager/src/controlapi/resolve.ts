// Finding an object the way docker's CLI lets users name it: full id, unique id prefix, or name.
import { NotFoundError, ShoalError, ErrorCode } from "@shoal/shared";

interface Named {
  readonly id: string;
}

export function resolveRef<T extends Named>(
  kind: string,
  ref: string,
  byId: (id: string) => T | undefined,
  byName: (name: string) => T | undefined,
  byIdPrefix: (prefix: string) => T[],
): T {
  if (ref === "") throw new NotFoundError(kind, '""');
  const exact = byId(ref) ?? byName(ref);
  if (exact) return exact;
  const matches = byIdPrefix(ref);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new ShoalError(ErrorCode.FailedPrecondition, `${kind} ${ref} is ambiguous (${matches.length} matches)`);
  }
  throw new NotFoundError(kind, ref);
}
