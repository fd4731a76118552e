// Byte encodings of the DIEF contracts (docs/reference-node.md): base64url without padding,
// UTF-8, hex, big-endian integers, and the RFC 8785 (JCS) canonical JSON every signature and
// every envelope's associated data is computed over.

import canonicalize from "canonicalize";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(data: Uint8Array): string {
  return decoder.decode(data);
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Unpadded base64url (RFC 4648 §5), as DIEF writes it. */
export function b64url(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("base64url");
}

const B64URL = /^[A-Za-z0-9_-]*$/;

/** Strict base64url: the URL-safe alphabet, no padding (or correct padding), and the unused
 * low bits of the last character zero, so one byte string has one accepted text. */
export function unb64url(text: string): Uint8Array {
  const body = text.replace(/=+$/, "");
  const missing = (4 - (body.length % 4)) % 4;
  if (!B64URL.test(body) || missing === 3) throw new Error("not base64url text");
  if (text.length !== body.length && text.length - body.length !== missing) {
    throw new Error("bad base64url padding");
  }
  const out = new Uint8Array(Buffer.from(body, "base64url"));
  if (b64url(out) !== body) throw new Error("non-canonical base64url");
  return out;
}

export function hex(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString("hex");
}

export function unhex(text: string): Uint8Array {
  if (!/^([0-9a-f]{2})*$/.test(text)) throw new Error("not lower-case hex");
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function bytesToBigInt(data: Uint8Array): bigint {
  return data.length === 0 ? 0n : BigInt("0x" + hex(data));
}

export function bigIntToBytes(value: bigint, length: number): Uint8Array {
  const text = value.toString(16).padStart(length * 2, "0");
  if (text.length > length * 2) throw new Error("integer too large");
  return unhex(text);
}

/** RFC 8785 (JCS) canonical JSON of *value*, as UTF-8 bytes. */
export function jcs(value: unknown): Uint8Array {
  const text = canonicalize(value);
  if (text === undefined) throw new Error("not a JSON value");
  return utf8(text);
}

/** A JSON object without one member (the ``signature`` a document's signature leaves out). */
export function without(doc: Record<string, unknown>, name: string): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...doc };
  delete copy[name];
  return copy;
}
