// The sealed envelope v1 (DESIGN §3, docs/reference-node.md "Sealed envelope"):
//
//   {"v":1,"type","schema","id","region","suite","recipients":[{"kid","wrapped"}],
//    "nonce","ciphertext"}
//
// - content: AES-256-GCM under a fresh 256-bit data key (DEK), 12-byte nonce, associated
//   data = JCS of the envelope without "ciphertext";
// - DEK wrap: RFC 9180 HPKE base mode single-shot Seal, aad empty,
//   info = "dief/v1/dek/" + type + "/" + region; wrapped = base64url(enc ‖ ct);
// - suites: MLKEM768X25519-HKDFSHA256-AES256GCM = KEM 0x647A (X-Wing), KDF 0x0001,
//   AEAD 0x0002; X25519-HKDFSHA256-AES256GCM = KEM 0x0020, KDF 0x0001, AEAD 0x0002;
// - key id: first 20 characters of base32(SHA-256(public key bytes)), lower case.

import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { XWing } from "@hpke/hybridkem-x-wing";
import { gcm } from "@noble/ciphers/aes.js";
import { x25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { randomBytes } from "node:crypto";

import { b64url, concat, jcs, unb64url, utf8 } from "./bytes.js";
import { isObject, parseStrict } from "./json.js";

export const SUITE_HYBRID = "MLKEM768X25519-HKDFSHA256-AES256GCM";
export const SUITE_X25519 = "X25519-HKDFSHA256-AES256GCM";
export const ENVELOPE_VERSION = 1;
export const MAX_VALUE_BYTES = 256 * 1024;
export const MIN_PADDED_SIZE = 1024;
const NONCE_LEN = 12;
const DEK_LEN = 32;

const PUBLIC_LEN: Record<string, number> = { [SUITE_HYBRID]: 1216, [SUITE_X25519]: 32 };

function suiteOf(name: string): CipherSuite {
  if (name === SUITE_HYBRID) {
    return new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() });
  }
  if (name === SUITE_X25519) {
    return new CipherSuite({
      kem: new DhkemX25519HkdfSha256(),
      kdf: new HkdfSha256(),
      aead: new Aes256Gcm(),
    });
  }
  throw new Error(`unknown suite ${name}`);
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** First 20 characters of base32(SHA-256(public bytes)), lower case, no padding. */
export function keyId(publicBytes: Uint8Array): string {
  const digest = sha256(publicBytes);
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of digest) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5 && out.length < 20) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
    if (out.length >= 20) break;
  }
  return out;
}

export interface KemPublicKey {
  suite: string;
  kid: string;
  publicBytes: Uint8Array;
}

export function kemPublicKey(suite: string, publicBytes: Uint8Array): KemPublicKey {
  const expected = PUBLIC_LEN[suite];
  if (expected === undefined) throw new Error(`unknown suite ${suite}`);
  if (publicBytes.length !== expected) throw new Error(`${suite} public key must be ${expected} bytes`);
  return { suite, kid: keyId(publicBytes), publicBytes };
}

/** HPKE info of a data key. */
export function hpkeInfo(type: string, region: string): Uint8Array {
  return utf8(`dief/v1/dek/${type}/${region}`);
}

/** The receipt key of a record sealed under *dek* (DESIGN §8): HKDF-SHA256, empty salt,
 * info "dief/v1/receipt", 32 bytes. */
export function receiptKey(dek: Uint8Array): Uint8Array {
  return hkdf(sha256, dek, new Uint8Array(0), utf8("dief/v1/receipt"), 32);
}

/** The smallest padded size for *length* bytes under the power-of-two rule. */
export function powerOfTwoSize(length: number): number {
  let size = MIN_PADDED_SIZE;
  while (size < length) size *= 2;
  return size;
}

/** *payload* followed by spaces up to *size* bytes. */
export function pad(payload: Uint8Array, size: number): Uint8Array {
  if (payload.length > size) throw new Error(`the payload is ${payload.length} bytes, above ${size}`);
  if (payload[payload.length - 1] === 0x20) throw new Error("a payload must not end with a space");
  const out = new Uint8Array(size).fill(0x20);
  out.set(payload, 0);
  return out;
}

export interface Sealed {
  value: Uint8Array;
  envelopeId: string;
  receiptKey: Uint8Array;
  dek: Uint8Array;
}

export interface SealOptions {
  type: string;
  region: string;
  schema: number;
  recipients: KemPublicKey[];
  /** The padded plaintext (already padded to an allowed size). */
  padded: Uint8Array;
  envelopeId?: string;
  /** Test vectors only: a fixed DEK and nonce (HPKE encapsulation stays randomised). */
  dek?: Uint8Array;
  nonce?: Uint8Array;
}

export function uuid4(): string {
  const raw = randomBytes(16);
  raw[6] = ((raw[6] ?? 0) & 0x0f) | 0x40;
  raw[8] = ((raw[8] ?? 0) & 0x3f) | 0x80;
  const h = raw.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Seal a padded payload to every recipient (all of one suite) under a fresh data key. */
export async function seal(options: SealOptions): Promise<Sealed> {
  const { type, region, schema, recipients, padded } = options;
  if (recipients.length === 0) throw new Error("no recipient");
  const suiteName = recipients[0]!.suite;
  if (recipients.some((r) => r.suite !== suiteName)) throw new Error("recipients of mixed suites");
  const suite = suiteOf(suiteName);
  const dek = options.dek ?? new Uint8Array(randomBytes(DEK_LEN));
  const nonce = options.nonce ?? new Uint8Array(randomBytes(NONCE_LEN));
  const info = hpkeInfo(type, region);
  const listed = [];
  for (const recipient of recipients) {
    const publicKey = await suite.kem.deserializePublicKey(recipient.publicBytes);
    const { ct, enc } = await suite.seal({ recipientPublicKey: publicKey, info }, dek, new Uint8Array(0));
    listed.push({ kid: recipient.kid, wrapped: b64url(concat(new Uint8Array(enc), new Uint8Array(ct))) });
  }
  const envelopeId = options.envelopeId ?? uuid4();
  const header = {
    v: ENVELOPE_VERSION,
    type,
    schema,
    id: envelopeId,
    region,
    suite: suiteName,
    recipients: listed,
    nonce: b64url(nonce),
  };
  const ciphertext = gcm(dek, nonce, jcs(header)).encrypt(padded);
  const value = utf8(JSON.stringify({ ...header, ciphertext: b64url(ciphertext) }));
  if (value.length > MAX_VALUE_BYTES) throw new Error("the envelope is above 256 KiB");
  return { value, envelopeId, receiptKey: receiptKey(dek), dek };
}

export interface KemPrivateKey {
  suite: string;
  kid: string;
  /** X-Wing: the 32-byte seed; X25519: the 32-byte private key. */
  secret: Uint8Array;
}

/** A private key and its public key id, from the secret bytes (an X-Wing 32-byte seed). */
export async function kemPrivateKey(suite: string, secret: Uint8Array): Promise<KemPrivateKey> {
  const publicKey = await kemPublicOf({ suite, kid: "", secret });
  return { suite, kid: publicKey.kid, secret };
}

export async function kemPublicOf(key: KemPrivateKey): Promise<KemPublicKey> {
  if (key.suite === SUITE_HYBRID) {
    const suite = suiteOf(key.suite);
    const pair = await (suite.kem as XWing).generateKeyPairDerand(key.secret);
    return kemPublicKey(key.suite, new Uint8Array(await suite.kem.serializePublicKey(pair.publicKey)));
  }
  return kemPublicKey(key.suite, x25519.getPublicKey(key.secret));
}

export interface Opened {
  type: string;
  schema: number;
  id: string;
  region: string;
  /** The plaintext without its padding. */
  payload: Uint8Array;
  padded: Uint8Array;
  receiptKey: Uint8Array;
}

const ENVELOPE_FIELDS = ["v", "type", "schema", "id", "region", "suite", "recipients", "nonce", "ciphertext"];

/** Open an envelope with one held private key (credential answers, test vectors). */
export async function open(value: Uint8Array, key: KemPrivateKey): Promise<Opened> {
  if (value.length > MAX_VALUE_BYTES) throw new Error("oversized envelope");
  const doc = parseStrict(new TextDecoder("utf-8", { fatal: true }).decode(value));
  if (!isObject(doc)) throw new Error("an envelope is a JSON object");
  const names = Object.keys(doc).sort();
  if (names.join() !== [...ENVELOPE_FIELDS].sort().join()) throw new Error("malformed envelope");
  if (doc.v !== ENVELOPE_VERSION) throw new Error("unsupported envelope version");
  const { type, schema, id, region, suite: suiteName, recipients, nonce, ciphertext } = doc;
  if (typeof type !== "string" || typeof region !== "string" || typeof id !== "string") {
    throw new Error("malformed envelope");
  }
  if (typeof schema !== "number" || typeof suiteName !== "string" || !Array.isArray(recipients)) {
    throw new Error("malformed envelope");
  }
  if (typeof nonce !== "string" || typeof ciphertext !== "string") throw new Error("malformed envelope");
  if (suiteName !== key.suite) throw new Error("the envelope is of another suite");
  const mine = recipients.find((r: unknown) => isObject(r) && r.kid === key.kid);
  if (!isObject(mine) || typeof mine.wrapped !== "string") throw new Error("not sealed to this key");
  const suite = suiteOf(suiteName);
  const wrapped = unb64url(mine.wrapped);
  const encSize = suite.kem.encSize;
  const recipientKey = await suite.kem.deserializePrivateKey(key.secret);
  const dek = new Uint8Array(
    await suite.open(
      { recipientKey, enc: wrapped.slice(0, encSize), info: hpkeInfo(type, region) },
      wrapped.slice(encSize),
      new Uint8Array(0),
    ),
  );
  const header: Record<string, unknown> = { ...doc };
  delete header.ciphertext;
  const padded = gcm(dek, unb64url(nonce), jcs(header)).decrypt(unb64url(ciphertext));
  return { type, schema, id, region, payload: unpad(padded), padded, receiptKey: receiptKey(dek) };
}

/** The payload without its trailing spaces (a JSON object ends at its last "}"). */
export function unpad(padded: Uint8Array): Uint8Array {
  let end = padded.length;
  while (end > 0 && padded[end - 1] === 0x20) end--;
  return padded.slice(0, end);
}
