// What a node derives from its 32-byte secret (DESIGN §5, docs/reference-node.md "Case identity"):
//
// - owner key of case index i: the Ed25519 key whose seed is HKDF-SHA256(secret, no salt,
//   info = "dief/v2/owner-key/" + i as 8 bytes big-endian), 32 bytes;
// - case id: the first 16 bytes of SHA-256("dief/v2/case-id" 0x00 region "/" cycle "/"
//   owner public key), version 8 and the RFC 9562 variant set, as a lower-case UUID;
// - owner_sig: Ed25519 over "dief/v2/owner" 0x00 + JCS(record without owner_sig);
// - contributor pseudonym of (cycle, region): the first 16 bytes, in hex, of
//   HMAC-SHA256(secret, "dief/contributor/v2/pseudonym/" + cycle + "/" + region).

import { ed25519 } from "@noble/curves/ed25519.js";
import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { b64url, concat, hex, jcs, unb64url, utf8, without } from "./bytes.js";

export const OWNER_KEY_INFO = "dief/v2/owner-key/";
export const CASE_ID_LABEL = "dief/v2/case-id\u0000";
export const OWNER_SIG_LABEL = "dief/v2/owner\u0000";

export function hkdf32(secret: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  return hkdf(sha256, secret, undefined, info, length);
}

export interface OwnerKey {
  seed: Uint8Array;
  publicKey: Uint8Array;
}

export function ownerKey(secret: Uint8Array, index: number): OwnerKey {
  if (!Number.isSafeInteger(index) || index < 0) throw new Error("a case index is a non-negative integer");
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigUint64(0, BigInt(index));
  const seed = hkdf32(secret, concat(utf8(OWNER_KEY_INFO), counter));
  return { seed, publicKey: ed25519.getPublicKey(seed) };
}

export function caseIdFor(region: string, cycle: string, ownerPublic: Uint8Array): string {
  const digest = sha256(concat(utf8(`${CASE_ID_LABEL}${region}/${cycle}/`), ownerPublic)).slice(0, 16);
  digest[6] = ((digest[6] ?? 0) & 0x0f) | 0x80;
  digest[8] = ((digest[8] ?? 0) & 0x3f) | 0x80;
  const h = hex(digest);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export function ownerMessage(record: Record<string, unknown>): Uint8Array {
  return concat(utf8(OWNER_SIG_LABEL), jcs(without(record, "owner_sig")));
}

export function signOwner(record: Record<string, unknown>, key: OwnerKey): string {
  return b64url(ed25519.sign(ownerMessage(record), key.seed));
}

export function verifyOwner(record: Record<string, unknown>): boolean {
  try {
    const publicKey = unb64url(String(record.owner_key));
    return ed25519.verify(unb64url(String(record.owner_sig)), ownerMessage(record), publicKey);
  } catch {
    return false;
  }
}

export function pseudonym(secret: Uint8Array, cycle: string, region: string): string {
  return hex(hmac(sha256, secret, utf8(`dief/contributor/v2/pseudonym/${cycle}/${region}`)).slice(0, 16));
}
