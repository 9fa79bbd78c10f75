// The certificate of `/v1/egress-map`, reloaded while the replica runs (docs/egress-acl.md,
// "Certificate reload and metrics"). cert-manager rotates the Secret and the kubelet swaps the
// mounted directory with one symlink rename, so file events are unreliable: the content of both
// files is polled instead (default every 10 s). A new pair is checked with
// tls.createSecureContext (garbage, a key that does not belong to the certificate, a half-written
// rotation all throw) before the server gets it; a bad or missing pair keeps the old certificate
// serving, is logged once and counted, and is tried again at the next poll, so a half-written
// rotation completes by itself. Nothing here ever logs file content (the key).

import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { MoorError } from '../errors.ts';
import { readInputFile } from '../inputFile.ts';
import { type Clock, systemClock, type TimerHandle } from '../reconcile/clock.ts';

export interface TlsPair {
  cert: string;
  key: string;
}

export interface CertificateInfo {
  /** Hex serial number, as openssl prints it. */
  serial: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
  /** The first certificate's notAfter, ms since the epoch. */
  notAfterMs: number;
}

export interface CertificateStats {
  /** The certificate being served. */
  current: CertificateInfo;
  /** New pairs put into service since start. */
  reloads: number;
  /** Polls that found a changed pair it could not use (bad, mismatched, missing). */
  failures: number;
  /** The problem of the latest poll, undefined when the files hold a usable pair. */
  problem: string | undefined;
}

export const DEFAULT_CERTIFICATE_POLL_MS = 10_000;
const MAX_PEM_BYTES = 1 << 20;
const FIX =
  'put a PEM certificate (chain) and the PEM private key that belongs to it there (a rotation in progress completes by itself)';

/** Whether `pair` is a usable certificate and key, and what the certificate says. */
export function checkPair(
  pair: TlsPair,
): { ok: true; info: CertificateInfo } | { ok: false; reason: string } {
  // createSecureContext ignores an empty key or certificate (a truncated file): refuse it here.
  if (pair.cert.trim() === '') return { ok: false, reason: 'the certificate file is empty' };
  if (pair.key.trim() === '') return { ok: false, reason: 'the key file is empty' };
  try {
    // Throws for text that is not PEM and for a key that does not belong to the certificate.
    createSecureContext({ cert: pair.cert, key: pair.key });
    const x = new X509Certificate(pair.cert);
    return {
      ok: true,
      info: { serial: x.serialNumber, fingerprint256: x.fingerprint256, notAfterMs: x.validToDate.getTime() },
    };
  } catch (err) {
    // OpenSSL's messages name the failing check ("key values mismatch", "no start line"), never
    // the content.
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export interface CertificateReloaderOptions {
  certPath: string;
  keyPath: string;
  /** Gives a new, checked pair to the server (https.Server.setSecureContext). */
  apply: (pair: TlsPair) => void;
  log: (line: string) => void;
  clock?: Clock;
  intervalMs?: number;
  /** File reader, for tests; default: readInputFile (bounded, clear errors). */
  read?: (path: string, what: string) => string;
}

export class CertificateReloader {
  readonly #o: CertificateReloaderOptions;
  readonly #clock: Clock;
  #served: TlsPair | undefined;
  #current: CertificateInfo | undefined;
  #timer: TimerHandle | undefined;
  #stopped = false;
  #problem: string | undefined;
  #reloads = 0;
  #failures = 0;

  constructor(o: CertificateReloaderOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  /** The pair to start the server with; a bad one is an error naming the files (nothing serves). */
  initial(): TlsPair {
    const read = this.#readPair();
    if (!read.ok) throw read.error;
    const checked = checkPair(read.pair);
    if (!checked.ok)
      throw new MoorError(
        'invalid-input',
        `${this.#files()} are not a usable PEM certificate and key: ${checked.reason}`,
        {
          hint: 'give a PEM certificate (chain) and the PEM private key that belongs to it',
        },
      );
    this.#served = read.pair;
    this.#current = checked.info;
    return read.pair;
  }

  /** Polls every interval until stop(). */
  start(): void {
    if (this.#timer || this.#stopped) return;
    const tick = () => {
      this.#timer = undefined;
      if (this.#stopped) return;
      this.poll();
      this.#timer = this.#clock.setTimeout(tick, this.#o.intervalMs ?? DEFAULT_CERTIFICATE_POLL_MS);
    };
    this.#timer = this.#clock.setTimeout(tick, this.#o.intervalMs ?? DEFAULT_CERTIFICATE_POLL_MS);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  stats(): CertificateStats | undefined {
    if (!this.#current) return undefined;
    return {
      current: this.#current,
      reloads: this.#reloads,
      failures: this.#failures,
      problem: this.#problem,
    };
  }

  /** One look at the files: a changed, usable pair goes into service. */
  poll(): void {
    const served = this.#served;
    if (!served) return;
    const read = this.#readPair();
    if (!read.ok) {
      this.#fail(read.reason);
      return;
    }
    if (read.pair.cert === served.cert && read.pair.key === served.key) {
      if (this.#problem !== undefined)
        this.#o.log(`egress-map: ${this.#files()} hold the served certificate again`);
      this.#problem = undefined;
      return;
    }
    const checked = checkPair(read.pair);
    if (!checked.ok) {
      this.#fail(`${this.#files()} are not a usable certificate and key: ${checked.reason}`);
      return;
    }
    try {
      this.#o.apply(read.pair);
    } catch (err) {
      this.#fail(
        `the server refused the new certificate: ${err instanceof Error ? err.message : String(err)}`,
      );
      return;
    }
    this.#served = read.pair;
    this.#current = checked.info;
    this.#problem = undefined;
    this.#reloads++;
    this.#o.log(
      `egress-map: serving the new certificate from ${this.#o.certPath} (serial ${checked.info.serial}, valid until ${new Date(checked.info.notAfterMs).toISOString()})`,
    );
  }

  #fail(problem: string): void {
    this.#failures++;
    if (problem === this.#problem) return;
    this.#problem = problem;
    const keep = this.#current
      ? ` (serial ${this.#current.serial}, valid until ${new Date(this.#current.notAfterMs).toISOString()})`
      : '';
    this.#o.log(`egress-map: ${problem}; still serving the previous certificate${keep}; fix: ${FIX}`);
  }

  #files(): string {
    return `--egress-map-tls-cert ${this.#o.certPath} and --egress-map-tls-key ${this.#o.keyPath}`;
  }

  #readPair(): { ok: true; pair: TlsPair } | { ok: false; reason: string; error: unknown } {
    const read =
      this.#o.read ??
      ((path: string, what: string) =>
        readInputFile(path, { what, maxBytes: MAX_PEM_BYTES, hint: FIX }).toString('utf8'));
    try {
      return {
        ok: true,
        pair: {
          cert: read(this.#o.certPath, '--egress-map-tls-cert'),
          key: read(this.#o.keyPath, '--egress-map-tls-key'),
        },
      };
    } catch (err) {
      return { ok: false, reason: err instanceof Error ? err.message : String(err), error: err };
    }
  }
}
