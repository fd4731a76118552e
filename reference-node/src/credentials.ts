// Contributor tokens (DESIGN §5, docs/reference-node.md "Contributor credentials"): RFC 9474
// RSABSSA-SHA384-PSS-Randomized over "dief/contributor/v2/" + cycle + "/" + region + "/" +
// contributor, by the issuer key of exactly that (cycle, region). The token a record carries
// is the 32-byte message prefix followed by the signature.
//
// Every blinding input is derived from the node secret, so the node sends the identical
// request every time (the issuer answers an identical request again and refuses a different
// one): HKDF-SHA256(secret, no salt, info = "dief/contributor/v2/blinding/" + cycle + "/" +
// region + "/" + issuer_kid + "/" + what) with what = "prefix" (32 bytes), "salt" (48 bytes)
// and "r/0", "r/1", … (the modulus length, masked to its bit length; the first value in
// [1, n) invertible mod n is r). Blinding is RFC 9474 §4.2 with these inputs; finalising
// (unblind and verify, §4.4) is @cloudflare/blindrsa-ts's.

import { RSABSSA } from "@cloudflare/blindrsa-ts";
import { sha256, sha384 } from "@noble/hashes/sha2.js";
import { createPublicKey, webcrypto } from "node:crypto";

import { b64url, bigIntToBytes, bytesToBigInt, concat, hex, jcs, unb64url, utf8 } from "./bytes.js";
import { KemPrivateKey, KemPublicKey, kemPublicOf, open, pad, powerOfTwoSize, seal } from "./envelope.js";
import { hkdf32, pseudonym } from "./identity.js";
import { isObject } from "./json.js";
import { SigningKey, signDocument } from "./signing.js";

export const TYPE_CREDENTIAL_REQUEST = "dief.credential-request";
export const TYPE_CREDENTIAL_ANSWER = "dief.credential-answer";
export const CREDENTIAL_ENVELOPE_LABEL = "credentials";
export const CONTEXT_CREDENTIAL_REQUEST = "dief.credential-request";
export const PREFIX_LEN = 32;
const SALT_LEN = 48;
const HASH_LEN = 48;

export const variant = RSABSSA.SHA384.PSS.Randomized();

export function contributorMessage(cycle: string, region: string, contributor: string): Uint8Array {
  return utf8(`dief/contributor/v2/${cycle}/${region}/${contributor}`);
}

export interface IssuerKey {
  kid: string;
  der: Uint8Array;
  n: bigint;
  e: bigint;
  bits: number;
  cryptoKey: webcrypto.CryptoKey;
}

export async function issuerKey(kid: string, der: Uint8Array): Promise<IssuerKey> {
  const jwk = createPublicKey({ key: Buffer.from(der), format: "der", type: "spki" }).export({ format: "jwk" });
  if (jwk.kty !== "RSA" || jwk.n === undefined || jwk.e === undefined) throw new Error("an issuer key is RSA");
  const n = bytesToBigInt(unb64url(jwk.n));
  const e = bytesToBigInt(unb64url(jwk.e));
  if (e !== 65537n) throw new Error("an issuer key's exponent is 65537");
  const cryptoKey = await webcrypto.subtle.importKey(
    "jwk",
    { kty: "RSA", n: jwk.n, e: jwk.e, alg: "PS384", ext: true },
    { name: "RSA-PSS", hash: "SHA-384" },
    true,
    ["verify"],
  );
  return { kid, der, n, e, bits: n.toString(2).length, cryptoKey };
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  let b = base % mod;
  let x = exp;
  while (x > 0n) {
    if (x & 1n) result = (result * b) % mod;
    b = (b * b) % mod;
    x >>= 1n;
  }
  return result;
}

function gcd(a: bigint, b: bigint): bigint {
  while (b) [a, b] = [b, a % b];
  return a;
}

function modInverse(a: bigint, n: bigint): bigint {
  let [t, newT, r, newR] = [0n, 1n, n, a % n];
  while (newR) {
    const q = r / newR;
    [t, newT] = [newT, t - q * newT];
    [r, newR] = [newR, r - q * newR];
  }
  if (r !== 1n) throw new Error("not invertible");
  return t < 0n ? t + n : t;
}

function mgf1(seed: Uint8Array, length: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  for (let counter = 0; blocks.length * HASH_LEN < length; counter++) {
    const c = new Uint8Array(4);
    new DataView(c.buffer).setUint32(0, counter);
    blocks.push(sha384(concat(seed, c)));
  }
  return concat(...blocks).slice(0, length);
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1), SHA-384 and MGF1-SHA-384, with the given salt. */
export function emsaPssEncode(message: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const emLen = Math.ceil(emBits / 8);
  const mHash = sha384(message);
  const h = sha384(concat(new Uint8Array(8), mHash, salt));
  const db = concat(new Uint8Array(emLen - salt.length - HASH_LEN - 2), new Uint8Array([1]), salt);
  const mask = mgf1(h, emLen - HASH_LEN - 1);
  const masked = db.map((byte, i) => byte ^ (mask[i] ?? 0));
  masked[0] = (masked[0] ?? 0) & (0xff >> (8 * emLen - emBits));
  return concat(masked, h, new Uint8Array([0xbc]));
}

export interface Blinding {
  prefix: Uint8Array;
  salt: Uint8Array;
  r: bigint;
}

export function blindingInputs(secret: Uint8Array, cycle: string, region: string, key: IssuerKey): Blinding {
  const base = `dief/contributor/v2/blinding/${cycle}/${region}/${key.kid}/`;
  const prefix = hkdf32(secret, utf8(base + "prefix"), PREFIX_LEN);
  const salt = hkdf32(secret, utf8(base + "salt"), SALT_LEN);
  const length = Math.ceil(key.bits / 8);
  const mask = (1n << BigInt(key.bits)) - 1n;
  for (let counter = 0; counter < 1000; counter++) {
    const r = bytesToBigInt(hkdf32(secret, utf8(`${base}r/${counter}`), length)) & mask;
    if (r > 0n && r < key.n && gcd(r, key.n) === 1n) return { prefix, salt, r };
  }
  throw new Error("no blinding factor found for this issuer key");
}

export interface TokenRequest {
  cycle: string;
  region: string;
  contributor: string;
  key: IssuerKey;
  /** prefix ‖ message: what the token signs. */
  inputMsg: Uint8Array;
  prefix: Uint8Array;
  blinded: Uint8Array;
  inv: Uint8Array;
}

/** RFC 9474 §4.1-4.2 with the derived inputs: the same blinded message every time. */
export function blind(secret: Uint8Array, cycle: string, region: string, key: IssuerKey): TokenRequest {
  const contributor = pseudonym(secret, cycle, region);
  const { prefix, salt, r } = blindingInputs(secret, cycle, region, key);
  const inputMsg = concat(prefix, contributorMessage(cycle, region, contributor));
  const m = bytesToBigInt(emsaPssEncode(inputMsg, key.bits - 1, salt));
  if (gcd(m, key.n) !== 1n) throw new Error("the encoded message is not invertible modulo n");
  const length = Math.ceil(key.bits / 8);
  const z = (m * modPow(r, key.e, key.n)) % key.n;
  return {
    cycle,
    region,
    contributor,
    key,
    inputMsg,
    prefix,
    blinded: bigIntToBytes(z, length),
    inv: bigIntToBytes(modInverse(r, key.n), length),
  };
}

export interface Credential {
  cycle: string;
  region: string;
  contributor: string;
  /** prefix ‖ signature */
  token: Uint8Array;
}

/** RFC 9474 §4.4 by @cloudflare/blindrsa-ts: unblind and verify; the token. */
export async function finalize(request: TokenRequest, blindSignature: Uint8Array): Promise<Credential> {
  const signature = await variant.finalize(request.key.cryptoKey as CryptoKey, request.inputMsg, blindSignature, request.inv);
  return {
    cycle: request.cycle,
    region: request.region,
    contributor: request.contributor,
    token: concat(request.prefix, signature),
  };
}

/** Whether *token* is a valid token of *contributor* for (cycle, region) under *key*. */
export async function verifyToken(key: IssuerKey, credential: Credential): Promise<boolean> {
  const { token } = credential;
  if (token.length <= PREFIX_LEN) return false;
  const input = concat(token.slice(0, PREFIX_LEN), contributorMessage(credential.cycle, credential.region, credential.contributor));
  return variant.verify(key.cryptoKey as CryptoKey, token.slice(PREFIX_LEN), input);
}

/** The signed credential request (wire shape dief.wire.CredentialRequest). */
export async function buildRequest(
  request: TokenRequest,
  registrationKey: SigningKey,
  nodeKem: KemPrivateKey,
): Promise<Record<string, unknown>> {
  const kem = await kemPublicOf(nodeKem);
  const unsigned = {
    v: 1,
    registration_kid: registrationKey.kid,
    issuer_kid: request.key.kid,
    cycle: request.cycle,
    region: request.region,
    blinded: b64url(request.blinded),
    node_kem_key: { suite: kem.suite, public: b64url(kem.publicBytes) },
  };
  return signDocument(unsigned, registrationKey, CONTEXT_CREDENTIAL_REQUEST);
}

/** Hex SHA-256 of "dief/credential-request/v1" 0x00 + JCS(request without signature): the
 * request's Kafka key, and the key of its answer. */
export function requestHash(request: Record<string, unknown>): string {
  const unsigned = { ...request };
  delete unsigned.signature;
  return hex(sha256(concat(utf8("dief/credential-request/v1\u0000"), jcs(unsigned))));
}

export async function sealRequest(request: Record<string, unknown>, secretariat: KemPublicKey): Promise<Uint8Array> {
  const payload = utf8(JSON.stringify(request));
  const sealed = await seal({
    type: TYPE_CREDENTIAL_REQUEST,
    region: CREDENTIAL_ENVELOPE_LABEL,
    schema: 1,
    recipients: [secretariat],
    padded: pad(payload, powerOfTwoSize(payload.length)),
  });
  return sealed.value;
}

/** The blind signature in a sealed answer for *hash*, opened with the node's KEM key. */
export async function openAnswer(value: Uint8Array, nodeKem: KemPrivateKey, hash: string): Promise<{ issuerKid: string; blindSignature: Uint8Array }> {
  const opened = await open(value, nodeKem);
  if (opened.type !== TYPE_CREDENTIAL_ANSWER || opened.region !== CREDENTIAL_ENVELOPE_LABEL || opened.schema !== 1) {
    throw new Error("not a credential answer envelope");
  }
  const answer: unknown = JSON.parse(new TextDecoder().decode(opened.payload));
  if (!isObject(answer) || answer.v !== 1 || answer.request !== hash) throw new Error("an answer to another request");
  if (typeof answer.issuer_kid !== "string" || typeof answer.blind_signature !== "string") {
    throw new Error("malformed answer");
  }
  return { issuerKid: answer.issuer_kid, blindSignature: unb64url(answer.blind_signature) };
}
