// shoal cluster client-cert NAME --out DIR [--lifetime D] | client-cert NAME --revoke
// shoal cluster update [--cert-expiry D] [--autolock=true|false]
// shoal cluster unlock-key [--rotate] (unlock.ts)
//
// A client certificate's key is made here and never leaves this machine: the manager signs a
// request for it. DIR gets ca.pem, cert.pem and key.pem (0600, in a 0700 directory): the layout
// of --tls-dir / SHOAL_TLS_DIR and of docker's DOCKER_CERT_PATH.
import type { Command } from "commander";
import { ErrorCode, ShoalError, durationFromMs, pki, writeCertFiles } from "@shoal/shared";
import { Control, MANAGER_HELP, managerAddresses } from "../client.js";
import { clientCertTable, listClientCertificates } from "./client-cert-list.js";
import { certExpiryMs } from "./daemons.js";
import { autolockFlag, registerUnlockKeyCommand, unlockKeyText } from "./unlock.js";

export function registerClusterCaCommands(cluster: Command): void {
  registerUnlockKeyCommand(cluster);
  cluster
    .command("client-cert")
    .description(
      "issue a client certificate for the CLI or docker --tlsverify into --out DIR (ca.pem, cert.pem, key.pem), " +
        "or --revoke every certificate issued under NAME",
    )
    .argument("<name>", "the client's name (the certificate's CN); `ls` lists the issued and revoked ones")
    .option("--out <dir>", "directory to write ca.pem, cert.pem and key.pem into (created 0700)")
    .option("--lifetime <duration>", "how long it is valid (e.g. 30d, 12h; default 365d)")
    .option("--revoke", "revoke the certificates issued under NAME: they no longer admit anyone")
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (name: string, flags: { out?: string; lifetime?: string; revoke?: boolean; manager?: string }) => {
      const control = new Control(managerAddresses(flags.manager));
      try {
        if (name === "ls" && flags.out === undefined && !flags.revoke) {
          process.stdout.write(clientCertTable(await listClientCertificates(control)));
          return;
        }
        if (flags.revoke) {
          const { revoked } = await control.call("revokeClientCertificate", { name });
          process.stdout.write(`revoked ${revoked} certificate(s) of ${name}\n`);
          return;
        }
        if (flags.out === undefined) {
          throw new ShoalError(ErrorCode.InvalidArgument, "--out DIR is needed (or --revoke)");
        }
        const { keyPem, csrPem } = await pki.createKeyAndCsr();
        const res = await control.call("issueClientCertificate", {
          name,
          csr: Buffer.from(csrPem),
          lifetime:
            flags.lifetime !== undefined ? durationFromMs(certExpiryMs(flags.lifetime, "--lifetime")) : undefined,
        });
        await writeCertFiles(flags.out, {
          caPem: Buffer.from(res.caCert).toString("utf8"),
          certChainPem: Buffer.from(res.certificateChain).toString("utf8"),
          keyPem,
        });
        process.stdout.write(
          `client certificate ${name} (serial ${res.serialNumber}) written to ${flags.out}\n` +
            `Use it:  export SHOAL_TLS_DIR=${flags.out}   (docker: DOCKER_CERT_PATH=${flags.out} DOCKER_TLS_VERIFY=1)\n`,
        );
      } finally {
        control.close();
      }
    });

  cluster
    .command("update")
    .description("change the cluster's settings")
    .option("--cert-expiry <duration>", "lifetime of node certificates issued from now on (e.g. 90d, 12h; at least 1m)")
    .option(
      "--autolock [bool]",
      "true: managers encrypt their Raft data key with an unlock key (printed here) and need it to start " +
        "(shoal manager unlock); false: they do not",
    )
    .option("--manager <addrs>", MANAGER_HELP)
    .action(async (flags: { certExpiry?: string; autolock?: string | boolean; manager?: string }) => {
      const autolock = flags.autolock === undefined ? undefined : autolockFlag(flags.autolock);
      const control = new Control(managerAddresses(flags.manager));
      try {
        const { cluster: current } = await control.call("getCluster", { clusterId: "" });
        if (!current) throw new ShoalError(ErrorCode.Unavailable, "the cluster is not initialized yet");
        const spec = { ...current.spec! };
        if (flags.certExpiry !== undefined) {
          spec.caConfig = { nodeCertExpiry: durationFromMs(certExpiryMs(flags.certExpiry, "--cert-expiry")) };
        }
        const wasLocked = spec.encryptionConfig?.autoLockManagers === true;
        if (autolock !== undefined) spec.encryptionConfig = { autoLockManagers: autolock };
        await control.call("updateCluster", {
          clusterId: current.id,
          clusterVersion: current.meta?.version,
          spec,
          rotation: undefined,
        });
        process.stdout.write(`cluster ${current.id} updated\n`);
        if (autolock === true && !wasLocked) {
          const { unlockKey } = await control.call("getUnlockKey", {});
          process.stdout.write(unlockKeyText(unlockKey));
        }
      } finally {
        control.close();
      }
    });
}
