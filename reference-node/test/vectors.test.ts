// The published test vectors (contracts/vectors/, made by the Python code) checked in
// TypeScript: what this node derives equals what the Python node derives, and what Python
// sealed or signed opens or verifies here.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";

import { Partitioners } from "kafkajs";

import { b64url, fromUtf8, hex, jcs, unb64url, unhex, utf8 } from "../src/bytes.js";
import { blind, blindingInputs, finalize, issuerKey, requestHash, verifyToken } from "../src/credentials.js";
import { DirectoryError, verifyDirectory } from "../src/directory.js";
import { kemPrivateKey, open, receiptKey } from "../src/envelope.js";
import { caseIdFor, ownerKey, pseudonym, verifyOwner } from "../src/identity.js";
import { openReceipt } from "../src/receipts.js";
import { PADDED_WITHOUT_LESSON, PADDED_WITH_LESSON, generalise, paddedSize, signRecord } from "../src/record.js";
import { SignatureError } from "../src/signing.js";
import { verifySummary } from "../src/summary.js";

const DIR = resolve(process.env.DIEF_VECTORS ?? "../contracts/vectors");

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function vector(name: string): any {
  return JSON.parse(readFileSync(resolve(DIR, name), "utf-8"));
}

for (const name of ["hybrid", "x25519"]) {
  test(`a ${name} envelope sealed in Python opens here, with its receipt key and receipt`, async () => {
    const v = vector("envelope.json")[name];
    const key = await kemPrivateKey(v.suite, unhex(v.secret));
    assert.equal(key.kid, v.kid);
    const opened = await open(utf8(v.envelope), key);
    assert.equal(opened.padded.length, v.padded_size);
    assert.equal(fromUtf8(opened.payload), v.payload);
    assert.equal(hex(opened.receiptKey), v.receipt_key);
    const receipt = openReceipt(opened.receiptKey, v.receipt.id, utf8(v.receipt.value));
    assert.equal(receipt.outcome, v.receipt.outcome);
    assert.equal(receipt.reason, v.receipt.reason);
    // a changed header field fails authentication
    const tampered = v.envelope.replace(`"region":"${v.region}"`, `"region":"EEG"`);
    await assert.rejects(open(utf8(tampered), key));
  });
}

test("the receipt key is HKDF-SHA256 of the data key (a fixed check)", () => {
  assert.equal(receiptKey(new Uint8Array(32)).length, 32);
});

test("owner key, case id and owner signature equal the Python node's, byte for byte", () => {
  const v = vector("case-record.json");
  const secret = unhex(v.secret);
  const owner = ownerKey(secret, v.case_index);
  assert.equal(b64url(owner.publicKey), v.owner_public);
  assert.equal(caseIdFor(v.region, v.cycle, owner.publicKey), v.case_id);
  const built = generalise(v.input, {
    revision: 1,
    owner,
    startMonth: v.start_month,
    catalogueVersion: v.catalogue_version,
  });
  const expected = { ...v.record };
  for (const name of ["contributor", "contributor_token", "envelope_id", "owner_sig"]) delete expected[name];
  assert.deepEqual(built.fields, expected);
  const credential = {
    cycle: v.cycle,
    region: v.region,
    contributor: v.record.contributor,
    token: unb64url(v.record.contributor_token),
  };
  const record = signRecord(built.fields, credential, v.envelope_id, owner);
  assert.equal(record.owner_sig, v.owner_sig);
  assert.equal(fromUtf8(jcs(record)), fromUtf8(jcs(v.record)));
  assert.ok(verifyOwner(v.record));
  assert.ok(!verifyOwner({ ...v.record, revision: 2 }));
  assert.deepEqual([PADDED_WITHOUT_LESSON, PADDED_WITH_LESSON], v.padded_sizes);
  assert.equal(paddedSize(record), PADDED_WITH_LESSON);
});

test("the blinded request and the token equal the Python wallet's (RFC 9474, derived inputs)", async () => {
  const v = vector("token.json");
  const directory = vector("directory.json");
  const dir = verifyDirectory(utf8(directory.directory), directory.root_fingerprint, undefined, Date.parse(directory.verify_at));
  const entry = dir.issuerKey(v.cycle, v.region);
  assert.ok(entry);
  assert.equal(entry.kid, v.issuer_kid);
  const key = await issuerKey(entry.kid, entry.der);
  const secret = unhex(v.secret);
  assert.equal(pseudonym(secret, v.cycle, v.region), v.contributor);
  const inputs = blindingInputs(secret, v.cycle, v.region, key);
  assert.equal(hex(inputs.prefix), v.prefix);
  assert.equal(hex(inputs.salt), v.salt);
  assert.equal(inputs.r.toString(16), v.r);
  const request = blind(secret, v.cycle, v.region, key);
  assert.equal(b64url(request.blinded), v.blinded);
  const credential = await finalize(request, unb64url(v.blind_signature));
  assert.equal(b64url(credential.token), v.token);
  assert.ok(await verifyToken(key, credential));
  const forged = { ...credential, contributor: "0".repeat(32) };
  assert.ok(!(await verifyToken(key, forged)));
  // a tampered answer does not finalise
  const bad = unb64url(v.blind_signature);
  bad[10] = (bad[10] ?? 0) ^ 1;
  await assert.rejects(finalize(request, bad));
  assert.equal(requestHash(v.request), v.request_hash);
});

test("the signed directory verifies under the pinned root, and tampering is refused", () => {
  const v = vector("directory.json");
  const at = Date.parse(v.verify_at);
  const dir = verifyDirectory(utf8(v.directory), v.root_fingerprint, undefined, at);
  assert.equal(dir.version, v.version);
  assert.deepEqual(dir.regionKemKeys("AFR", at).map((k) => k.kid), v.region_kem_kids.AFR);
  assert.deepEqual(dir.verifyKeys("secretariat-sign").map((k) => k.kid), v.secretariat_sign_kids);
  const wrongRoot = "0".repeat(64);
  assert.throws(() => verifyDirectory(utf8(v.directory), wrongRoot, undefined, at), DirectoryError);
  const doc = JSON.parse(v.directory);
  doc.parameters.k_csp = 1;
  assert.throws(() => verifyDirectory(utf8(JSON.stringify(doc)), v.root_fingerprint, undefined, at), /signature/);
  const doubled = v.directory.replace('"version":', '"version":99,"version":');
  assert.throws(() => verifyDirectory(utf8(doubled), v.root_fingerprint, undefined, at), /repeated keys/);
  assert.throws(() => verifyDirectory(utf8(v.directory), v.root_fingerprint, undefined, at + 400 * 86_400_000), /expired|certificate/);
  assert.equal(verifyDirectory(utf8(v.directory), v.root_fingerprint, dir, at), dir);
  const reformatted = utf8(JSON.stringify(JSON.parse(v.directory), null, 1));
  assert.throws(() => verifyDirectory(reformatted, v.root_fingerprint, dir, at), /same version/);
});

test("the signed summary verifies over JCS with the directory's Secretariat key", () => {
  const v = vector("summary.json");
  const directory = vector("directory.json");
  const dir = verifyDirectory(utf8(directory.directory), directory.root_fingerprint, undefined, Date.parse(directory.verify_at));
  const verified = verifySummary(v.summary, dir);
  assert.equal(verified.kid, v.kid);
  assert.equal(verified.issue, v.issue);
  // Python wrote "share":1.0; JCS (and this verifier) writes 1
  assert.ok(v.summary.includes('"share":1.0'));
  assert.ok(fromUtf8(jcs(JSON.parse(v.summary))).includes('"share":1,'));
  // re-serialised by JavaScript, it still verifies
  assert.equal(verifySummary(JSON.stringify(JSON.parse(v.summary)), dir).issue, v.issue);
  assert.throws(() => verifySummary(v.summary, dir, v.issue), /replayed/);
  const doubled = v.summary.replace('"cycle":', '"cycle":"CSP1","cycle":');
  assert.throws(() => verifySummary(doubled, dir), SignatureError);
  const changed = v.summary.replace('"k":3', '"k":2');
  assert.throws(() => verifySummary(changed, dir), SignatureError);
});

test("kafkajs's default partitioner is murmur2 as the Java client's (and aiokafka's)", () => {
  const v = vector("partitions.json");
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: v.partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  for (const { key, partition } of v.keys) {
    const got = partitioner({ topic: "t", partitionMetadata, message: { key: Buffer.from(key), value: null } });
    assert.equal(got, partition, key);
  }
});
