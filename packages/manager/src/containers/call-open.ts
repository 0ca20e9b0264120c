// What a manager accepts as the first message of a container call: a well-formed `open`, and a
// caller who may make it. Exec and attach are the most powerful calls of the cluster: they need a
// client certificate. A client certificate's name becomes `open.caller` (whatever the client
// sent); a manager certificate calls for someone else (a follower forwarding, the Docker API or
// the dashboard on loopback) and must name, in `open.caller`, the client certificate it verified.
import {
  ContainerOp,
  ErrorCode,
  InvalidArgumentError,
  ShoalError,
  type ContainerCallOpen,
  type ContainerCallRequest,
  type pki,
} from "@shoal/shared";

const OPS: ReadonlySet<ContainerOp> = new Set([
  ContainerOp.INSPECT,
  ContainerOp.TOP,
  ContainerOp.STATS,
  ContainerOp.EXEC,
  ContainerOp.ATTACH,
]);

/** Exec and attach: recorded in the audit log, and only for client certificates. */
export function isExecLike(op: ContainerOp): boolean {
  return op === ContainerOp.EXEC || op === ContainerOp.ATTACH;
}

/** The call's `open`, checked and with its caller set; INVALID_ARGUMENT or PERMISSION_DENIED. */
export function acceptOpen(first: ContainerCallRequest, identity: pki.CertIdentity | undefined): ContainerCallOpen {
  if (first.input?.$case !== "open") {
    throw new InvalidArgumentError("the first message of a container call must carry open", { field: "input" });
  }
  const open = first.input.value;
  if (!OPS.has(open.op)) {
    throw new InvalidArgumentError(`unknown operation ${open.op}`, { field: "open.op" });
  }
  if (open.op === ContainerOp.EXEC && (open.exec?.cmd.length ?? 0) === 0) {
    throw new InvalidArgumentError("an exec needs a command", { field: "open.exec.cmd" });
  }
  const caller = callerName(identity, open.caller);
  if (isExecLike(open.op) && caller === "") {
    throw new ShoalError(ErrorCode.PermissionDenied, "exec and attach need an admin client certificate");
  }
  return { ...open, caller };
}

/** The client certificate's name; a manager's word for it; nobody else's. */
function callerName(identity: pki.CertIdentity | undefined, claimed: string): string {
  switch (identity?.role) {
    case "client":
      return identity.nodeId;
    case "manager":
      return claimed;
    default:
      return "";
  }
}
