// The CLI's client certificate: every call to a manager is mutual TLS with the files of a
// directory (ca.pem, cert.pem, key.pem: docker's DOCKER_CERT_PATH layout) given by --tls-dir or
// SHOAL_TLS_DIR. `shoal up` prints it (the first manager's DATA_DIR/client/); `shoal cluster
// client-cert NAME --out DIR` issues more. There is no silent default: without a directory the
// command says what to do.
import type * as grpc from "@grpc/grpc-js";
import type { Command } from "commander";
import {
  ErrorCode,
  MANAGER_CHANNEL_OPTIONS,
  ShoalError,
  TlsMaterial,
  channelCredentials,
  errorMessage,
  readCertFiles,
} from "@shoal/shared";

export const TLS_DIR_ENV = "SHOAL_TLS_DIR";
export const TLS_DIR_HELP =
  "directory of the client certificate (ca.pem, cert.pem, key.pem) to call the managers with " +
  "(default: $SHOAL_TLS_DIR; shoal up prints it, shoal cluster client-cert makes one)";

export interface ClientTls {
  readonly credentials: grpc.ChannelCredentials;
  readonly options: grpc.ChannelOptions;
  readonly material: TlsMaterial;
}

/** The client certificate in `dir` (default --tls-dir / SHOAL_TLS_DIR), read now. */
export async function clientTls(dir: string | undefined = process.env[TLS_DIR_ENV]): Promise<ClientTls> {
  if (dir === undefined || dir === "") {
    throw new ShoalError(
      ErrorCode.Unauthenticated,
      `no client certificate: give its directory with --tls-dir DIR or ${TLS_DIR_ENV}=DIR (shoal up prints ` +
        `it; on a manager host the admin's is DATA_DIR/client; shoal cluster client-cert NAME --out DIR issues one)`,
    );
  }
  let files;
  try {
    files = await readCertFiles(dir);
  } catch (err: unknown) {
    throw new ShoalError(
      ErrorCode.Unauthenticated,
      `cannot read the client certificate in ${dir}: ${errorMessage(err)}`,
      {
        cause: err,
      },
    );
  }
  if (!files) {
    throw new ShoalError(
      ErrorCode.Unauthenticated,
      `${dir} holds no client certificate (ca.pem, cert.pem, key.pem): check --tls-dir / ${TLS_DIR_ENV}`,
    );
  }
  const material = new TlsMaterial(files);
  return { credentials: channelCredentials(material), options: MANAGER_CHANNEL_OPTIONS, material };
}

/**
 * Adds --tls-dir to every command that calls managers (those with --manager, but not the agent
 * daemon, whose certificate is its own), and makes the flag win over SHOAL_TLS_DIR.
 */
export function enableTlsDir(program: Command): void {
  const visit = (command: Command): void => {
    for (const sub of command.commands) {
      const callsManagers = sub.options.some((o) => o.long === "--manager") && sub.name() !== "agent";
      if (callsManagers && !sub.options.some((o) => o.long === "--tls-dir")) {
        sub.option("--tls-dir <dir>", TLS_DIR_HELP);
      }
      visit(sub);
    }
  };
  visit(program);
  program.hook("preAction", (_program, action) => {
    const dir = (action.opts() as { tlsDir?: unknown }).tlsDir;
    if (typeof dir === "string" && dir !== "") process.env[TLS_DIR_ENV] = dir;
  });
}
