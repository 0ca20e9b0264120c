// The TLS files on disk: the DOCKER_CERT_PATH layout, modes, and what a broken directory gives.
import { mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CertificateAuthority } from "../../src/pki/index.js";
import { readCertFiles, writeCertFiles, type TlsFiles } from "../../src/tls/index.js";
import { issueFiles, newRoot } from "./fixtures.js";

let root: CertificateAuthority;
let files: TlsFiles;
const dirs: string[] = [];
beforeAll(async () => {
  root = await newRoot();
  files = await issueFiles(root, "w1", "worker");
});
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "shoal-certs-"));
  dirs.push(dir);
  return dir;
}

describe("writeCertFiles / readCertFiles", () => {
  it("writes ca.pem, cert.pem and key.pem, 0600 in a 0700 directory, and reads them back", async () => {
    const dir = join(await tempDir(), "certificates");
    await writeCertFiles(dir, files);
    expect((await readdir(dir)).sort()).toEqual(["ca.pem", "cert.pem", "key.pem"]);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    for (const name of ["ca.pem", "cert.pem", "key.pem"])
      expect((await stat(join(dir, name))).mode & 0o777).toBe(0o600);
    expect(await readCertFiles(dir)).toEqual(files);
  });

  it("replaces the files of a renewal, leaving no temporary file behind", async () => {
    const dir = await tempDir();
    await writeCertFiles(dir, files);
    const renewed = await issueFiles(root, "w1", "worker");
    await writeCertFiles(dir, renewed);
    expect(await readCertFiles(dir)).toEqual(renewed);
    expect((await readdir(dir)).sort()).toEqual(["ca.pem", "cert.pem", "key.pem"]);
  });

  it("reads nothing from an empty or missing directory (the node has not joined)", async () => {
    const dir = await tempDir();
    expect(await readCertFiles(dir)).toBeUndefined();
    expect(await readCertFiles(join(dir, "absent"))).toBeUndefined();
  });

  it("refuses a partial directory, and a key that is not the certificate's", async () => {
    const dir = await tempDir();
    await writeFile(join(dir, "cert.pem"), files.certChainPem);
    await expect(readCertFiles(dir)).rejects.toThrow(/lacks ca.pem and key.pem/);
    const other = await issueFiles(root, "w2", "worker");
    await writeCertFiles(dir, { ...files, keyPem: other.keyPem });
    await expect(readCertFiles(dir)).rejects.toMatchObject({ reason: "key-mismatch" });
  });
});
