// A node's (or the CLI's) TLS files on disk: DIR/ca.pem, DIR/cert.pem, DIR/key.pem, the layout of
// docker's DOCKER_CERT_PATH. Nodes keep theirs in DATA_DIR/certificates/, the CLI in its --tls-dir.
//
// Writes are atomic per file (a temporary file, fsync, rename) with mode 0600 in a directory of
// mode 0700. The three renames are not one atomic step: they run ca, then cert, then key, so a
// crash between the last two leaves a certificate without its key, which readCertFiles reports
// (key-mismatch) rather than serving with; the node then joins again.
import { constants } from "node:fs";
import { chmod, mkdir, open, readFile, rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { CertificateError } from "../pki/errors.js";
import { importPrivateKeyPem, sameKey } from "../pki/keys.js";
import { pemBlocks, x509 } from "../pki/x509.js";
import type { TlsFiles } from "./tls-material.js";

export const CA_FILE = "ca.pem";
export const CERT_FILE = "cert.pem";
export const KEY_FILE = "key.pem";

const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

/** Writes the three files into `dir` (created 0700 if missing), each atomically, mode 0600. */
export async function writeCertFiles(dir: string, files: TlsFiles): Promise<void> {
  await mkdir(dir, { recursive: true, mode: DIR_MODE });
  await chmod(dir, DIR_MODE);
  const staged: [string, string][] = [];
  try {
    for (const [name, text] of [
      [CA_FILE, files.caPem],
      [CERT_FILE, files.certChainPem],
      [KEY_FILE, files.keyPem],
    ] as const) {
      const tmp = join(dir, `.${name}.${process.pid}.tmp`);
      await writeDurably(tmp, text);
      staged.push([tmp, join(dir, name)]);
    }
    for (const [tmp, path] of staged) await rename(tmp, path);
  } catch (err: unknown) {
    await Promise.all(staged.map(([tmp]) => rm(tmp, { force: true })));
    throw err;
  }
  await syncDir(dir);
}

/**
 * Reads the three files from `dir`: undefined when none exists (the node has not joined yet);
 * throws when only some exist, when they do not parse, or when the key is not the certificate's.
 */
export async function readCertFiles(dir: string): Promise<TlsFiles | undefined> {
  const [caPem, certChainPem, keyPem] = await Promise.all(
    [CA_FILE, CERT_FILE, KEY_FILE].map((name) => readIfPresent(join(dir, name))),
  );
  if (caPem === undefined && certChainPem === undefined && keyPem === undefined) return undefined;
  if (caPem === undefined || certChainPem === undefined || keyPem === undefined) {
    const missing = [
      [CA_FILE, caPem],
      [CERT_FILE, certChainPem],
      [KEY_FILE, keyPem],
    ]
      .filter(([, text]) => text === undefined)
      .map(([name]) => name);
    throw new CertificateError("malformed", `${dir} lacks ${missing.join(" and ")}`);
  }
  const leaf = pemBlocks(certChainPem, "CERTIFICATE")[0];
  if (!leaf) throw new CertificateError("malformed", `${join(dir, CERT_FILE)} holds no certificate`);
  if (pemBlocks(caPem, "CERTIFICATE").length === 0) {
    throw new CertificateError("malformed", `${join(dir, CA_FILE)} holds no certificate`);
  }
  if (!(await sameKey(new x509.X509Certificate(leaf).publicKey, await importPrivateKeyPem(keyPem)))) {
    throw new CertificateError("key-mismatch", `${join(dir, KEY_FILE)} is not the key of ${join(dir, CERT_FILE)}`);
  }
  return { caPem, certChainPem, keyPem };
}

async function writeDurably(path: string, text: string): Promise<void> {
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, FILE_MODE);
  try {
    await handle.chmod(FILE_MODE); // the umask may have narrowed it, never widened: set it exactly
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err: unknown) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
