// Verifying the signed forum directory (DESIGN §4, docs/reference-node.md "Directory"), pinned to
// the forum root's fingerprint (lower-case hex SHA-256 of the root's public bytes).
//
// 1. strict JSON (a repeated key is refused), format "dief-directory/1";
// 2. the certificate: SHA-256 of root_public is the pinned fingerprint; the root signs the
//    certificate (context dief.directory-certificate); now within not_before..not_after;
// 3. the directory is signed by the certified key (context dief.directory), issued inside
//    the certificate's validity, not expired, not issued in the future (5 minutes' skew);
// 4. not older than the version held; the same version must be the same bytes;
// 5. the rules: every kid matches its public key; every region KEM key is endorsed by a
//    signing key of its region; every region signing key by the root AND by its predecessor
//    or the region's recovery key; one active KEM key per region (two in a declared
//    rotation); exactly one issuer key per (cycle, region).

import { createHash } from "node:crypto";

import { equalBytes, unb64url } from "./bytes.js";
import { KemPublicKey, keyId, kemPublicKey } from "./envelope.js";
import { isObject, parseStrict } from "./json.js";
import { SignatureError, VerifyKey, parseSignature, verifyDocument } from "./signing.js";
import { jcs } from "./bytes.js";

export const CONTEXT_DIRECTORY = "dief.directory";
export const CONTEXT_CERTIFICATE = "dief.directory-certificate";
export const CONTEXT_ENDORSEMENT = "dief.key-endorsement";
export const CONTEXT_REGISTRATION = "dief.node-registration";
export const ISSUER_ALG = "RSABSSA-SHA384-PSS-Randomized";
const CLOCK_SKEW_MS = 300_000;

export class DirectoryError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "DirectoryError";
  }
}

export interface DirectoryKey {
  role: string;
  region: string | null;
  cycle: string | null;
  kid: string;
  alg: string;
  public: string;
  status: string;
  not_after: string | null;
  endorsements: { by: string; signature: unknown }[];
  tokens: number | null;
  reissued_tokens: number | null;
}

export interface ForumParameters {
  regions: string[];
  cycle_start_month: number;
  k_meeting: number;
  k_csp: number;
  catalogue_versions: string[];
  simulation: boolean;
}

const OPENING = new Set(["active", "previous", "retired"]);

function time(text: unknown, what: string): number {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(text)) {
    throw new DirectoryError("malformed", `${what} is not a UTC time`);
  }
  return Date.parse(text);
}

export function rootFingerprint(publicBytes: Uint8Array): string {
  return createHash("sha256").update(publicBytes).digest("hex");
}

function verifyKeyOf(text: unknown, what: string): VerifyKey {
  try {
    return new VerifyKey(unb64url(String(text)));
  } catch {
    throw new DirectoryError("malformed", `the ${what} is not a valid signing key`);
  }
}

function checked(doc: Record<string, unknown>, key: VerifyKey | VerifyKey[], context: string, code: string, what: string): void {
  try {
    verifyDocument(doc, key, context);
  } catch (error) {
    if (error instanceof SignatureError) throw new DirectoryError(code, `the ${what} signature does not verify`);
    throw error;
  }
}

function keyStatement(key: DirectoryKey, by: string): Record<string, unknown> {
  return {
    format: "dief-key-statement/1",
    role: key.role,
    region: key.region,
    cycle: key.cycle,
    kid: key.kid,
    alg: key.alg,
    public: key.public,
    by,
  };
}

export class ForumDirectory {
  readonly raw: Uint8Array;
  readonly doc: Record<string, unknown>;
  readonly keys: DirectoryKey[];
  readonly parameters: ForumParameters;
  readonly version: number;
  readonly #verifyKeys = new Map<string, VerifyKey>();

  constructor(raw: Uint8Array, doc: Record<string, unknown>) {
    this.raw = raw;
    this.doc = doc;
    this.keys = doc.keys as DirectoryKey[];
    this.parameters = doc.parameters as ForumParameters;
    this.version = doc.version as number;
    for (const key of this.keys) {
      if (key.alg === "MLDSA65+Ed25519") this.#verifyKeys.set(key.kid, new VerifyKey(unb64url(key.public)));
    }
  }

  entries(role: string, region?: string | null, statuses?: Set<string>): DirectoryKey[] {
    return this.keys.filter(
      (k) =>
        k.role === role &&
        (region === undefined || k.region === region) &&
        (statuses === undefined || statuses.has(k.status)),
    );
  }

  #kem(role: string, region: string | null | undefined, now: number): KemPublicKey[] {
    return this.entries(role, region, new Set(["active"]))
      .filter((k) => k.not_after === null || k.not_after === undefined || Date.parse(k.not_after) > now)
      .map((k) => kemPublicKey(k.alg, unb64url(k.public)));
  }

  /** The keys to seal a region's cases to: its active KEM keys. */
  regionKemKeys(region: string, now = Date.now()): KemPublicKey[] {
    return this.#kem("region-kem", region, now);
  }

  secretariatKemKeys(now = Date.now()): KemPublicKey[] {
    return this.#kem("secretariat-kem", undefined, now);
  }

  /** Keys that verify documents of *role* ("region-sign", "secretariat-sign"): active,
   * previous and retired, never revoked. */
  verifyKeys(role: string, region?: string): VerifyKey[] {
    return this.entries(role, region, OPENING).map((k) => this.#verifyKeys.get(k.kid)!);
  }

  /** The one issuer key (DER SubjectPublicKeyInfo) of (cycle, region), not revoked. */
  issuerKey(cycle: string, region: string): { kid: string; der: Uint8Array } | undefined {
    const found = this.keys.find(
      (k) => k.role === "issuer" && k.cycle === cycle && k.region === region && OPENING.has(k.status),
    );
    return found === undefined ? undefined : { kid: found.kid, der: unb64url(found.public) };
  }
}

/** Verify a directory's certificate and signature against the pinned root (module doc). */
export function verifyDirectory(
  raw: Uint8Array,
  fingerprint: string,
  previous?: ForumDirectory,
  now = Date.now(),
): ForumDirectory {
  let doc: unknown;
  try {
    doc = parseStrict(new TextDecoder("utf-8", { fatal: true }).decode(raw));
  } catch {
    throw new DirectoryError("malformed", "the directory is not strict UTF-8 JSON (repeated keys are refused)");
  }
  if (!isObject(doc) || doc.format !== "dief-directory/1" || !isObject(doc.certificate)) {
    throw new DirectoryError("malformed", "not a dief-directory/1 document");
  }
  if (!Array.isArray(doc.keys) || !isObject(doc.parameters) || typeof doc.version !== "number") {
    throw new DirectoryError("malformed", "not a dief-directory/1 document");
  }
  const cert = doc.certificate;
  const rootPublic = unb64url(String(cert.root_public));
  if (rootFingerprint(rootPublic) !== fingerprint.toLowerCase().replace(/^sha256:/, "").replace(/[: ]/g, "")) {
    throw new DirectoryError("certificate", "the directory key is not certified by the pinned forum root");
  }
  const root = verifyKeyOf(cert.root_public, "root key");
  checked(cert, root, CONTEXT_CERTIFICATE, "certificate", "certificate");
  const subject = verifyKeyOf(cert.subject_public, "directory key");
  if (subject.kid !== cert.subject_kid) throw new DirectoryError("certificate", "the certificate's kid does not match");
  const notBefore = time(cert.not_before, "not_before");
  const notAfter = time(cert.not_after, "not_after");
  if (!(notBefore <= now && now <= notAfter)) {
    throw new DirectoryError("certificate", "the directory key's certificate is not valid now");
  }
  const issued = time(doc.issued_at, "issued_at");
  if (!(notBefore <= issued && issued <= notAfter)) {
    throw new DirectoryError("certificate", "the directory was issued outside its key's certificate");
  }
  checked(doc, subject, CONTEXT_DIRECTORY, "bad_signature", "directory");
  if (previous !== undefined) {
    if (doc.version < previous.version) throw new DirectoryError("rollback", "an older directory version");
    if (doc.version === previous.version) {
      if (!equalBytes(raw, previous.raw)) throw new DirectoryError("conflict", "the same version with other bytes");
      return previous;
    }
  }
  if (time(doc.expires, "expires") <= now) throw new DirectoryError("expired", "the directory has expired");
  if (issued > now + CLOCK_SKEW_MS) throw new DirectoryError("not_yet_valid", "the directory is issued in the future");
  checkRules(doc, root);
  return new ForumDirectory(raw, doc);
}

function fail(message: string): DirectoryError {
  return new DirectoryError("rule", message);
}

function endorsed(key: DirectoryKey, by: string, signers: VerifyKey[]): boolean {
  for (const endorsement of key.endorsements ?? []) {
    if (endorsement.by !== by) continue;
    let signature;
    try {
      signature = parseSignature(endorsement.signature);
    } catch {
      continue;
    }
    for (const signer of signers) {
      if (signer.kid !== signature.kid || (signer.kid === key.kid && by !== "self")) continue;
      try {
        signer.verify(jcs(keyStatement(key, by)), signature, CONTEXT_ENDORSEMENT);
        return true;
      } catch {
        // another signer may hold it
      }
    }
  }
  return false;
}

function checkRules(doc: Record<string, unknown>, root: VerifyKey): void {
  const keys = doc.keys as DirectoryKey[];
  const parameters = doc.parameters as ForumParameters;
  const rotations = new Set((doc.kem_rotations as string[] | undefined) ?? []);
  const seen = new Set<string>();
  const verifyKeys = new Map<string, VerifyKey>();
  for (const key of keys) {
    if (seen.has(key.kid)) throw fail(`key ${key.kid} is listed twice`);
    seen.add(key.kid);
    if (keyId(unb64url(key.public)) !== key.kid) throw fail(`key ${key.kid}: the key id does not match its key`);
    if (key.role.endsWith("-kem")) kemPublicKey(key.alg, unb64url(key.public));
    else if (key.role === "issuer") {
      if (key.alg !== ISSUER_ALG || key.cycle === null || key.region === null) throw fail(`key ${key.kid}: a bad issuer key`);
    } else verifyKeys.set(key.kid, new VerifyKey(unb64url(key.public)));
  }
  const signersOf = (role: string, region: string | null, exclude?: string) =>
    keys
      .filter((k) => k.role === role && k.region === region && k.status !== "revoked" && k.kid !== exclude)
      .map((k) => verifyKeys.get(k.kid)!);
  for (const region of parameters.regions) {
    const mine = keys.filter((k) => k.region === region && k.role.startsWith("region-"));
    for (const key of mine.filter((k) => k.role === "region-sign")) {
      if (!endorsed(key, "root", [root])) throw fail(`${region}: signing key ${key.kid} lacks the root's signature`);
      const byPredecessor = endorsed(key, "predecessor", signersOf("region-sign", region, key.kid));
      const byRecovery = endorsed(key, "recovery", signersOf("region-recovery", region));
      if (!byPredecessor && !byRecovery) {
        throw fail(`${region}: signing key ${key.kid} is signed by neither its predecessor nor the recovery key`);
      }
    }
    const signers = signersOf("region-sign", region);
    for (const key of mine.filter((k) => k.role === "region-kem")) {
      if (!endorsed(key, "region", signers)) throw fail(`${region}: KEM key ${key.kid} is not signed by its region`);
    }
    const activeKem = mine.filter((k) => k.role === "region-kem" && k.status === "active").length;
    if (activeKem > (rotations.has(region) ? 2 : 1)) throw fail(`${region}: a second active KEM key without a rotation`);
  }
  const issuers = new Map<string, number>();
  for (const key of keys.filter((k) => k.role === "issuer" && k.status !== "revoked")) {
    const scope = `${key.cycle}/${key.region}`;
    issuers.set(scope, (issuers.get(scope) ?? 0) + 1);
    if (issuers.get(scope)! > 1) throw fail(`two issuer keys for ${scope}: exactly one per (cycle, region)`);
  }
}
