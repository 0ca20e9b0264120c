// A Control API client that fails over across managers, as the CLI's does, and says for each
// call whether the cluster acknowledged it, refused it, or left it ambiguous.
//
// A call goes to the preferred manager first and to the others in turn. An error that the
// manager answers with before touching the store (validation, not found, a stale version, "not
// the leader") is a refusal; a timeout, a dropped connection or an internal error may have left
// the write applied: the attempt is ambiguous and the call moves on to the next manager. Rounds
// repeat (refusals of "not the leader" included, as while a leader is being elected) until one
// manager answers, a final refusal comes, or the call's deadline passes.
import { ErrorCode, ShoalError, errorMessage, fromServiceError } from "@shoal/shared";
import type { ControlMethod, RequestOf, ResponseOf, TestControl } from "../support/control-client.js";

export type Outcome = "acked" | "refused" | "ambiguous";

/** Refusals: the manager says it did not apply the write. */
const REFUSALS: ReadonlySet<string> = new Set([
  ErrorCode.InvalidArgument,
  ErrorCode.NotFound,
  ErrorCode.AlreadyExists,
  ErrorCode.SequenceConflict,
  ErrorCode.FailedPrecondition,
  ErrorCode.NotLeader,
  ErrorCode.PermissionDenied,
]);

/** Refusals that another manager may answer differently: try it. */
const TRY_ANOTHER: ReadonlySet<string> = new Set([ErrorCode.NotLeader]);

export type CallResult<T> =
  | { readonly outcome: "acked"; readonly value: T; readonly manager: string }
  | { readonly outcome: "refused" | "ambiguous"; readonly error: ShoalError };

export interface FailoverClientOptions {
  readonly control: TestControl;
  /** The managers to try, asked again on each call (members come and go). */
  addresses(): readonly string[];
  /** One attempt on one manager (default 3 s). */
  readonly attemptTimeoutMs?: number;
  /** The whole call (default 8 s). */
  readonly callTimeoutMs?: number;
}

export class FailoverClient {
  private preferred = "";

  constructor(private readonly options: FailoverClientOptions) {}

  async call<K extends ControlMethod>(method: K, request: RequestOf<K>): Promise<CallResult<ResponseOf<K>>> {
    const attemptMs = this.options.attemptTimeoutMs ?? 3000;
    const deadline = Date.now() + (this.options.callTimeoutMs ?? 8000);
    let ambiguous = false;
    let last: ShoalError = new ShoalError(ErrorCode.Unavailable, "no manager to ask");
    while (Date.now() < deadline) {
      const addrs = this.order();
      for (const addr of addrs) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        try {
          const value = await this.options.control.call(addr, method, request, Math.min(attemptMs, left));
          this.preferred = addr;
          return { outcome: "acked", value, manager: addr };
        } catch (err: unknown) {
          const e = fromServiceError(err);
          last = new ShoalError(e.code, `${addr}: ${errorMessage(e)}`, { cause: err });
          if (!REFUSALS.has(e.code)) {
            ambiguous = true;
            continue;
          }
          if (!TRY_ANOTHER.has(e.code)) return { outcome: ambiguous ? "ambiguous" : "refused", error: last };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    // The last answer says most about why the call failed; an earlier ambiguous attempt still
    // makes the outcome unknown.
    return { outcome: ambiguous ? "ambiguous" : "refused", error: last };
  }

  private order(): string[] {
    const addrs = [...this.options.addresses()];
    const i = addrs.indexOf(this.preferred);
    return i <= 0 ? addrs : [...addrs.slice(i), ...addrs.slice(0, i)];
  }
}
