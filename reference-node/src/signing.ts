// Composite signatures (DESIGN §4, §7): ML-DSA-65 (FIPS 204, pure, empty context) AND
// Ed25519 (RFC 8032) over the same bytes
//
//   tbs = "dief/v1/signature/" + context + 0x00 + JCS(document without "signature")
//
// serialised as {"alg":"MLDSA65+Ed25519","kid","mldsa65","ed25519"}. A verify key's public
// bytes are the raw ML-DSA-65 public key (1,952 bytes) then the raw Ed25519 public key (32);
// its kid is keyId() of them. A signing key is stored as 64 bytes: the ML-DSA-65 seed (32)
// then the Ed25519 private key (32). Both signatures must verify.

import { ed25519 } from "@noble/curves/ed25519.js";
import { ml_dsa65 } from "@noble/post-quantum/ml-dsa.js";

import { b64url, concat, jcs, unb64url, utf8, without } from "./bytes.js";
import { keyId } from "./envelope.js";
import { isObject } from "./json.js";

export const SIGNATURE_ALG = "MLDSA65+Ed25519";
const MLDSA65_PUBLIC_LEN = 1952;

export interface Signature {
  alg: string;
  kid: string;
  mldsa65: string;
  ed25519: string;
}

export class SignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SignatureError";
  }
}

export function tbs(payload: Uint8Array, context: string): Uint8Array {
  return concat(utf8(`dief/v1/signature/${context}`), new Uint8Array([0]), payload);
}

export class VerifyKey {
  readonly kid: string;
  readonly publicBytes: Uint8Array;

  constructor(publicBytes: Uint8Array) {
    if (publicBytes.length !== MLDSA65_PUBLIC_LEN + 32) {
      throw new SignatureError("a signing public key is 1,984 bytes");
    }
    this.publicBytes = publicBytes;
    this.kid = keyId(publicBytes);
  }

  /** Throws SignatureError unless both signatures over *payload* verify. */
  verify(payload: Uint8Array, signature: Signature, context: string): void {
    if (signature.alg !== SIGNATURE_ALG) throw new SignatureError("unknown signature algorithm");
    if (signature.kid !== this.kid) throw new SignatureError("the signature is by another key");
    const message = tbs(payload, context);
    let ok = false;
    try {
      ok =
        ml_dsa65.verify(unb64url(signature.mldsa65), message, this.publicBytes.slice(0, MLDSA65_PUBLIC_LEN)) &&
        ed25519.verify(unb64url(signature.ed25519), message, this.publicBytes.slice(MLDSA65_PUBLIC_LEN));
    } catch {
      ok = false;
    }
    if (!ok) throw new SignatureError(`the signature by key ${this.kid} does not verify`);
  }
}

export class SigningKey {
  readonly verifyKey: VerifyKey;
  readonly #mldsa: Uint8Array;
  readonly #ed: Uint8Array;

  /** *secret*: the ML-DSA-65 seed (32 bytes) then the Ed25519 private key (32 bytes). */
  constructor(secret: Uint8Array) {
    if (secret.length !== 64) throw new SignatureError("a signing private key is 64 bytes");
    const pair = ml_dsa65.keygen(secret.slice(0, 32));
    this.#mldsa = pair.secretKey;
    this.#ed = secret.slice(32);
    this.verifyKey = new VerifyKey(concat(pair.publicKey, ed25519.getPublicKey(this.#ed)));
  }

  get kid(): string {
    return this.verifyKey.kid;
  }

  sign(payload: Uint8Array, context: string): Signature {
    const message = tbs(payload, context);
    return {
      alg: SIGNATURE_ALG,
      kid: this.kid,
      mldsa65: b64url(ml_dsa65.sign(message, this.#mldsa)),
      ed25519: b64url(ed25519.sign(message, this.#ed)),
    };
  }

  toString(): string {
    return `SigningKey(${this.kid})`;
  }
}

export function parseSignature(value: unknown): Signature {
  if (!isObject(value)) throw new SignatureError("the signature is not an object");
  const names = Object.keys(value).sort().join();
  if (names !== "alg,ed25519,kid,mldsa65") throw new SignatureError("malformed signature object");
  const { alg, kid, mldsa65, ed25519: ed } = value;
  if (typeof alg !== "string" || typeof kid !== "string") throw new SignatureError("malformed signature");
  if (typeof mldsa65 !== "string" || typeof ed !== "string") throw new SignatureError("malformed signature");
  return { alg, kid, mldsa65, ed25519: ed };
}

/** Sign a JSON document: its "signature" member set over JCS of the rest. */
export function signDocument<T extends Record<string, unknown>>(
  doc: T,
  key: SigningKey,
  context: string,
): T & { signature: Signature } {
  const signature = key.sign(jcs(without(doc, "signature")), context);
  return { ...doc, signature };
}

/** Verify a parsed JSON document's "signature" member with one of *keys* (by kid). */
export function verifyDocument(
  doc: Record<string, unknown>,
  keys: VerifyKey[] | VerifyKey,
  context: string,
): VerifyKey {
  if (doc.signature === undefined || doc.signature === null) {
    throw new SignatureError("the document is not signed");
  }
  const signature = parseSignature(doc.signature);
  const key = (Array.isArray(keys) ? keys : [keys]).find((k) => k.kid === signature.kid);
  if (key === undefined) throw new SignatureError(`key ${signature.kid} is not trusted here`);
  key.verify(jcs(without(doc, "signature")), signature, context);
  return key;
}
