import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureExecutable } from './system-packages.js';

const execFileAsync = promisify(execFile);

/** The EC curve of every key made here (P-256: quick to generate, accepted by Node and redis-server). */
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface TlsFilesOptions {
  /** Subject CN of the server certificate, e.g. `127.0.0.1` or `localhost`. */
  readonly commonName: string;
  /** subjectAltName of the server certificate in openssl's syntax, e.g. `IP:127.0.0.1`; none when absent. */
  readonly subjectAltName?: string;
  /**
   * `false` (default): one self-signed server certificate, which is also the CA clients trust.
   * `true`: a CA (CN `test-ca`) and a server certificate it signed, as a real deployment has.
   */
  readonly signedByCa?: boolean;
  /** Prefix of the temporary directory's name; default `rdmasched-tls-`. */
  readonly prefix?: string;
}

export interface TlsFiles {
  /** The temporary directory holding the files (tests may put other files there too). */
  readonly dir: string;
  /** PEM of the server certificate. */
  readonly certFile: string;
  /** PEM of the server's private key. */
  readonly keyFile: string;
  /** PEM of the certificate clients trust: the CA's, or `certFile` itself when self-signed. */
  readonly caFile: string;
  /** Removes `dir` and everything in it. */
  cleanup(): Promise<void>;
}

/**
 * Makes a temporary directory with a TLS certificate and key for a test server, with openssl
 * (installed with apt-get when missing), valid for one day.
 */
export async function makeTlsFiles(opts: TlsFilesOptions): Promise<TlsFiles> {
  const openssl = await ensureExecutable({ executable: 'openssl', debianPackage: 'openssl' });
  const dir = await mkdtemp(join(tmpdir(), opts.prefix ?? 'rdmasched-tls-'));
  const cleanup = () => rm(dir, { recursive: true, force: true });
  const run = (args: string[]) => execFileAsync(openssl, args, { cwd: dir });
  const certFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const subject = ['-subj', `/CN=${opts.commonName}`];
  const selfSigned = (subj: string[], extra: string[], key: string, out: string) =>
    run(['req', '-x509', ...EC_KEY, '-days', '1', ...subj, ...extra, '-keyout', key, '-out', out]);
  try {
    if (opts.signedByCa !== true) {
      const san =
        opts.subjectAltName === undefined ? [] : ['-addext', `subjectAltName=${opts.subjectAltName}`];
      await selfSigned(subject, san, keyFile, certFile);
      return { dir, certFile, keyFile, caFile: certFile, cleanup };
    }
    const caFile = join(dir, 'ca.pem');
    const caKey = join(dir, 'ca.key');
    await selfSigned(['-subj', '/CN=test-ca'], [], caKey, caFile);
    const csr = join(dir, 'server.csr');
    await run(['req', ...EC_KEY, ...subject, '-keyout', keyFile, '-out', csr]);
    const ext: string[] = [];
    if (opts.subjectAltName !== undefined) {
      const extFile = join(dir, 'san.ext');
      await writeFile(extFile, `subjectAltName=${opts.subjectAltName}\n`);
      ext.push('-extfile', extFile);
    }
    await run([
      'x509',
      '-req',
      '-in',
      csr,
      '-CA',
      caFile,
      '-CAkey',
      caKey,
      '-CAcreateserial',
      '-days',
      '1',
      ...ext,
      '-out',
      certFile,
    ]);
    return { dir, certFile, keyFile, caFile, cleanup };
  } catch (err: unknown) {
    await cleanup();
    throw err;
  }
}
