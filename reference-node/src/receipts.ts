// Receipts (DESIGN §8, docs/reference-node.md "Receipts"): on dief.receipts, keyed by the receipt
// id = hex SHA-256("dief/v1/receipt-id/" + envelope id); the value {"v":1,"nonce","ciphertext"}
// is AES-256-GCM under the record's receipt key (HKDF of its data key) with the receipt id
// as associated data; the plaintext {"id","outcome","reason","region"} is padded with spaces
// to 256 bytes. Only the posting node (which knows the data key) can open its receipts.

import { gcm } from "@noble/ciphers/aes.js";
import { sha256 } from "@noble/hashes/sha2.js";

import { fromUtf8, hex, unb64url, utf8 } from "./bytes.js";
import { isObject, parseStrict } from "./json.js";

export const RECEIPT_PLAINTEXT_BYTES = 256;

export interface Receipt {
  id: string;
  outcome: "applied" | "duplicate" | "stale" | "dead_lettered";
  reason: string | null;
  region: string;
}

export function receiptId(envelopeId: string): string {
  return hex(sha256(utf8(`dief/v1/receipt-id/${envelopeId}`)));
}

/** The receipt in *value* (keyed *rid*), opened with the record's receipt key. */
export function openReceipt(key: Uint8Array, rid: string, value: Uint8Array): Receipt {
  const doc = parseStrict(fromUtf8(value));
  if (!isObject(doc) || doc.v !== 1 || typeof doc.nonce !== "string" || typeof doc.ciphertext !== "string") {
    throw new Error("not a receipt value");
  }
  const plaintext = gcm(key, unb64url(doc.nonce), utf8(rid)).decrypt(unb64url(doc.ciphertext));
  if (plaintext.length !== RECEIPT_PLAINTEXT_BYTES) throw new Error("a receipt plaintext has the wrong length");
  const receipt = parseStrict(fromUtf8(plaintext).trimEnd());
  if (!isObject(receipt) || typeof receipt.id !== "string" || receiptId(receipt.id) !== rid) {
    throw new Error("a receipt about another record");
  }
  return receipt as unknown as Receipt;
}
