// Opening bulletins (DESIGN §13, docs/contracts.md "Bulletins and the bulletin group key"):
//
// 1. the group key release (topic dief.bulletins, key group-key/v<n>): parse strictly; its
//    directory_version must be the verified directory's; its signature (context
//    dief.bulletin-group-key) by the directory's certificate subject key; this node's copy
//    (wrapped[].node_kid = our KEM key id) is a dief.bulletin-group-key envelope whose
//    region is directory-v<n> and whose plaintext is exactly {"k":"<base64url>"}: the group
//    private key, which must have the release's group_kid;
// 2. a sealed batch: a dief.bulletin envelope (schema 1) sealed to a group key we hold; its
//    plaintext {"batch","signature"}; batch.region must be the envelope's region; the
//    signature (context dief.bulletin) over JCS(batch) by a region-sign key the directory
//    lists for that region. Anything else is ignored, and only its reason is reported.

import { fromUtf8, unb64url, utf8 } from "./bytes.js";
import { ForumDirectory } from "./directory.js";
import { KemPrivateKey, kemPrivateKey, open } from "./envelope.js";
import { isObject, parseStrict } from "./json.js";
import { VerifyKey, verifyDocument } from "./signing.js";

export const CONTEXT_BULLETIN = "dief.bulletin";
export const CONTEXT_BULLETIN_GROUP_KEY = "dief.bulletin-group-key";
export const TYPE_BULLETIN = "dief.bulletin";
export const TYPE_BULLETIN_GROUP_KEY = "dief.bulletin-group-key";

export class BulletinError extends Error {
  readonly reason: string;

  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface OpenedBulletins {
  region: string;
  issuedHour: string;
  groupKid: string;
  entries: Record<string, unknown>[];
}

function directoryKey(directory: ForumDirectory): VerifyKey {
  const cert = directory.doc.certificate;
  if (!isObject(cert) || typeof cert.subject_public !== "string") {
    throw new BulletinError("directory", "the directory names no directory key");
  }
  return new VerifyKey(unb64url(cert.subject_public));
}

/** This node's group private key from a release of the directory version it holds. */
export async function openGroupKey(
  release: Uint8Array | string,
  directory: ForumDirectory,
  nodeKey: KemPrivateKey,
): Promise<KemPrivateKey> {
  let doc: unknown;
  try {
    doc = parseStrict(typeof release === "string" ? release : fromUtf8(release));
  } catch {
    throw new BulletinError("malformed", "the release is not strict JSON");
  }
  if (!isObject(doc) || doc.format !== "dief-bulletin-group-key/1") {
    throw new BulletinError("malformed", "not a bulletin group key release");
  }
  if (doc.directory_version !== directory.version) {
    throw new BulletinError("version", "the release is of another directory version");
  }
  try {
    verifyDocument(doc, directoryKey(directory), CONTEXT_BULLETIN_GROUP_KEY);
  } catch {
    throw new BulletinError("bad_signature", "the release is not signed by the directory signer");
  }
  const { suite, group_kid: groupKid, wrapped } = doc;
  if (typeof suite !== "string" || typeof groupKid !== "string" || !Array.isArray(wrapped)) {
    throw new BulletinError("malformed", "malformed release");
  }
  const mine = wrapped.find((w: unknown) => isObject(w) && w.node_kid === nodeKey.kid);
  if (!isObject(mine) || typeof mine.envelope !== "string") {
    throw new BulletinError("not_registered", "no copy of the group key for this node");
  }
  const opened = await open(utf8(mine.envelope), nodeKey);
  if (opened.type !== TYPE_BULLETIN_GROUP_KEY || opened.schema !== 1) {
    throw new BulletinError("wrong_type", "the copy is not a bulletin group key envelope");
  }
  if (opened.region !== `directory-v${directory.version}`) {
    throw new BulletinError("version", "the copy is of another directory version");
  }
  const text = fromUtf8(opened.payload);
  if (!text.startsWith('{"k":"') || !text.endsWith('"}')) {
    throw new BulletinError("malformed", "the copy is malformed");
  }
  const group = await kemPrivateKey(suite, unb64url(text.slice(6, -2)));
  if (group.kid !== groupKid) throw new BulletinError("wrong_key", "the copy is not the released key");
  return group;
}

/** A sealed batch opened with one of *groupKeys* and verified under the directory. */
export async function openBulletins(
  value: Uint8Array,
  groupKeys: KemPrivateKey[],
  directory: ForumDirectory,
): Promise<OpenedBulletins> {
  let opened;
  let lastError: unknown = new BulletinError("no_key", "no group key held");
  for (const key of groupKeys) {
    try {
      opened = await open(value, key);
      break;
    } catch (error) {
      lastError = error;
    }
  }
  if (opened === undefined) {
    throw lastError instanceof BulletinError ? lastError : new BulletinError("not_opened", "does not open");
  }
  if (opened.type !== TYPE_BULLETIN || opened.schema !== 1) {
    throw new BulletinError("wrong_type", "not a bulletin envelope");
  }
  let doc: unknown;
  try {
    doc = parseStrict(fromUtf8(opened.payload));
  } catch {
    throw new BulletinError("malformed", "the batch is not strict JSON");
  }
  if (!isObject(doc) || !isObject(doc.batch) || Object.keys(doc).sort().join() !== "batch,signature") {
    throw new BulletinError("malformed", "malformed signed batch");
  }
  const batch = doc.batch;
  if (batch.format !== "dief-bulletins/1" || batch.region !== opened.region) {
    throw new BulletinError("wrong_region", "the batch is not the envelope's region's");
  }
  try {
    const signed = { ...batch, signature: doc.signature };
    verifyDocument(signed, directory.verifyKeys("region-sign", opened.region), CONTEXT_BULLETIN);
  } catch {
    throw new BulletinError("bad_signature", "the batch is not signed by its region");
  }
  const { issued_hour: issuedHour, group_kid: groupKid, entries } = batch;
  if (typeof issuedHour !== "string" || typeof groupKid !== "string" || !Array.isArray(entries)) {
    throw new BulletinError("malformed", "malformed batch");
  }
  return {
    region: opened.region,
    issuedHour,
    groupKid,
    entries: entries.filter(isObject),
  };
}
