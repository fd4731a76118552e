// Verifying a signed CSP summary (DESIGN §7, docs/reference-node.md "Signatures"): parse strictly
// (a repeated key refuses the document), drop "signature", RFC 8785 (JCS), and check both
// signatures (context dief.csp-summary) with a Secretariat signing key of the verified
// directory named by the signature's kid. A verifier that holds issue n of a cycle refuses
// issues up to n (an older issue replayed as the latest).

import { fromUtf8 } from "./bytes.js";
import { ForumDirectory } from "./directory.js";
import { isObject, parseStrict } from "./json.js";
import { SignatureError, VerifyKey, verifyDocument } from "./signing.js";

export const CONTEXT_CSP_SUMMARY = "dief.csp-summary";
export const CONTEXT_DIGEST = "dief.digest";

export interface VerifiedSummary {
  cycle: string;
  issue: number;
  issuedAt: string | null;
  kid: string;
}

export function verifySummary(
  value: Uint8Array | string,
  keys: VerifyKey[] | ForumDirectory,
  heldIssue?: number,
): VerifiedSummary {
  let doc: unknown;
  try {
    doc = parseStrict(typeof value === "string" ? value : fromUtf8(value));
  } catch {
    throw new SignatureError("the summary is not strict JSON (a repeated key is refused)");
  }
  if (!isObject(doc)) throw new SignatureError("the summary is not a JSON object");
  const trusted = Array.isArray(keys) ? keys : keys.verifyKeys("secretariat-sign");
  const key = verifyDocument(doc, trusted, CONTEXT_CSP_SUMMARY);
  if (typeof doc.cycle !== "string" || typeof doc.issue !== "number" || doc.issue < 1) {
    throw new SignatureError("the summary names no cycle and issue");
  }
  if (heldIssue !== undefined && doc.issue <= heldIssue) {
    throw new SignatureError(`issue ${doc.issue} is not newer than issue ${heldIssue} held: replayed`);
  }
  const issuedAt = typeof doc.issued_at === "string" ? doc.issued_at : null;
  return { cycle: doc.cycle, issue: doc.issue, issuedAt, kid: key.kid };
}
