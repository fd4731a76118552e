// What the reference node does (DESIGN §2, §5, §8): verify the directory, get its contributor
// tokens through the credential exchange, turn each case into a signed, padded, sealed
// record on its region's cases topic, read its receipts, verify CSP summaries.

import { b64url, fromUtf8, unb64url, utf8 } from "./bytes.js";
import {
  Credential,
  TokenRequest,
  blind,
  buildRequest,
  finalize,
  issuerKey,
  openAnswer,
  requestHash,
  sealRequest,
} from "./credentials.js";
import { ForumDirectory, verifyDirectory } from "./directory.js";
import { pad, seal, uuid4 } from "./envelope.js";
import { OwnerKey, ownerKey, signOwner } from "./identity.js";
import { isObject } from "./json.js";
import { Bus, CREDENTIAL_ANSWERS_TOPIC, CREDENTIAL_REQUESTS_TOPIC, CSP_TOPIC, RECEIPTS_TOPIC, casesTopic } from "./kafka.js";
import { Receipt, openReceipt, receiptId } from "./receipts.js";
import { CASE_SCHEMA_VERSION, PADDED_WITHOUT_LESSON, TYPE_CASE, cycleOf, generalise, monthOf, paddedSize, signRecord } from "./record.js";
import { NodeState } from "./state.js";
import { VerifiedSummary, verifySummary } from "./summary.js";


/** The deliberately bad records the node can add (to show the aggregator refuses them). */
export const HOSTILE_KINDS = ["owner_sig", "token", "padding", "indicator"] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

export function loadDirectory(state: NodeState, raw: Uint8Array, fingerprint: string): ForumDirectory {
  const held = state.data.directory === null ? undefined : verifyDirectory(unb64url(state.data.directory), fingerprint, undefined, heldMoment(state));
  const directory = verifyDirectory(raw, fingerprint, held);
  state.data.directory = b64url(directory.raw);
  state.save();
  return directory;
}

/** The held directory is checked as it was when taken (its own issue time), so that an
 * expired one still serves to refuse a rollback. */
function heldMoment(state: NodeState): number {
  const doc = JSON.parse(fromUtf8(unb64url(state.data.directory!))) as { issued_at: string };
  return Date.parse(doc.issued_at);
}

interface Pending {
  request: TokenRequest;
  kid: string;
}

/** The tokens of *pairs* ("cycle/region"), from the state or asked for now. */
export async function ensureTokens(
  state: NodeState,
  directory: ForumDirectory,
  bus: Bus,
  pairs: string[],
  timeoutMs: number,
): Promise<Map<string, Credential>> {
  const held = new Map<string, Credential>();
  const pending = new Map<string, Pending>();
  const registration = state.registrationKey();
  const kem = await state.kemKey();
  const secretariat = directory.secretariatKemKeys()[0];
  if (secretariat === undefined) throw new Error("the directory lists no Secretariat KEM key");
  for (const pair of pairs) {
    const [cycle, region] = pair.split("/") as [string, string];
    const entry = directory.issuerKey(cycle, region);
    if (entry === undefined) throw new Error(`the directory has no issuer key for ${pair}`);
    const stored = state.data.tokens[pair];
    if (stored !== undefined && stored.issuer_kid === entry.kid) {
      held.set(pair, { cycle, region, contributor: stored.contributor, token: unb64url(stored.token) });
      continue;
    }
    const request = blind(state.secret, cycle, region, await issuerKey(entry.kid, entry.der));
    const signed = await buildRequest(request, registration, kem);
    const hash = requestHash(signed);
    pending.set(hash, { request, kid: entry.kid });
    await bus.send(CREDENTIAL_REQUESTS_TOPIC, hash, await sealRequest(signed, secretariat));
  }
  if (pending.size === 0) return held;
  const answers: Promise<void>[] = [];
  await bus.until(
    (record) => {
      if (record.topic !== CREDENTIAL_ANSWERS_TOPIC || record.key === null || record.value === null) return false;
      const mine = pending.get(record.key);
      if (mine === undefined) return false; // another node's answer: not opened
      pending.delete(record.key);
      const hash = record.key;
      const value = record.value;
      answers.push(
        (async () => {
          const answer = await openAnswer(value, kem, hash);
          if (answer.issuerKid !== mine.kid) throw new Error("an answer under another issuer key");
          const credential = await finalize(mine.request, answer.blindSignature);
          const pair = `${credential.cycle}/${credential.region}`;
          held.set(pair, credential);
          state.data.tokens[pair] = { contributor: credential.contributor, token: b64url(credential.token), issuer_kid: mine.kid };
        })(),
      );
      return pending.size === 0;
    },
    timeoutMs,
    "the issuer's answers to the token requests",
  );
  await Promise.all(answers);
  state.save();
  return held;
}

export interface Posted {
  line: number;
  kind: "case" | `hostile:${HostileKind}`;
  case_id: string;
  revision: number;
  region: string;
  envelope_id: string;
  receipt_id: string;
  receipt: Receipt | null;
}

interface Prepared {
  record: Record<string, unknown>;
  owner: OwnerKey;
  kind: Posted["kind"];
  line: number;
}

/** The index entry and revision of a case line: a known case (by its id or the
 * practitioner's reference) gets its next revision, anything else is a new case. */
function number(state: NodeState, input: Record<string, unknown>, cycle: string): { index: number; revision: number; reference: string | null } {
  const given = typeof input.case_id === "string" ? input.case_id : null;
  const known = given === null ? undefined : Object.entries(state.data.cases).find(([ref, e]) => ref === given || e.case_id === given)?.[1];
  if (known === undefined) {
    if ((input.revision ?? 1) !== 1 || (input.status ?? "active") !== "active") {
      throw new Error("unknown_case: a withdrawal or a later revision names a case this node posted");
    }
    return { index: state.data.next_index++, revision: 1, reference: given };
  }
  if (known.region !== input.region || known.cycle !== cycle) throw new Error("a revision cannot move a case to another region or cycle");
  const revision = typeof input.revision === "number" ? input.revision : known.revision + 1;
  if (revision <= known.revision) throw new Error("stale_revision");
  return { index: known.index, revision, reference: given };
}

function prepare(
  state: NodeState,
  input: Record<string, unknown>,
  line: number,
  options: PostOptions,
  kind: Posted["kind"] = "case",
): Prepared & { cycle: string; region: string; reference: string | null } {
  const cycle = cycleOf(monthOf(input.detected), options.directory.parameters.cycle_start_month);
  const { index, revision, reference } = number(state, kind === "case" ? input : {}, cycle);
  const owner = ownerKey(state.secret, index);
  const built = generalise(input, {
    revision,
    owner,
    startMonth: options.directory.parameters.cycle_start_month,
    catalogueVersion: options.catalogueVersion,
  });
  if (kind === "case") {
    const key = reference ?? (built.fields.case_id as string);
    state.data.cases[key] = { case_id: built.fields.case_id as string, index, region: built.region, cycle, revision };
  }
  return { record: built.fields, owner, kind, line, cycle, region: built.region, reference };
}

export interface PostOptions {
  directory: ForumDirectory;
  catalogueVersion: string;
  timeoutMs: number;
  hostile: HostileKind[];
}

/** Post every case of *lines* (and the hostile records asked for); the records sent, with
 * the receipts that came within the timeout. */
export async function post(state: NodeState, bus: Bus, lines: string[], options: PostOptions): Promise<Posted[]> {
  const inputs = lines
    .map((text, i) => ({ text: text.trim(), line: i + 1 }))
    .filter(({ text }) => text.length > 0)
    .map(({ text, line }) => {
      const input: unknown = JSON.parse(text);
      if (!isObject(input)) throw new Error(`line ${line}: a case is a JSON object`);
      return { input, line };
    });
  const prepared = inputs.map(({ input, line }) => prepare(state, input, line, options));
  const first = inputs[0];
  for (const kind of options.hostile) {
    if (first === undefined) throw new Error("hostile records are made from the first case");
    const input = kind === "indicator" ? { ...first.input, risk_indicators: ["DOC-99"] } : first.input;
    prepared.push(prepare(state, input, first.line, options, `hostile:${kind}`));
  }
  const regions = options.directory.parameters.regions;
  const cycles = [...new Set(prepared.map((p) => p.cycle))];
  const pairs = cycles.flatMap((cycle) => regions.map((region) => `${cycle}/${region}`));
  // Every region of each cycle, whether or not the node posts there (DESIGN §5).
  const tokens = await ensureTokens(state, options.directory, bus, pairs, options.timeoutMs);
  const posted: Posted[] = [];
  const keys = new Map<string, { posted: Posted; key: Uint8Array }>();
  for (const item of prepared) {
    const sent = await sealOne(item, tokens, options.directory, bus);
    posted.push(sent.posted);
    if (item.kind !== "hostile:padding") keys.set(sent.posted.receipt_id, sent);
  }
  state.save();
  if (keys.size > 0) {
    await bus
      .until(
        (record) => {
          if (record.topic !== RECEIPTS_TOPIC || record.key === null || record.value === null) return false;
          const mine = keys.get(record.key);
          if (mine === undefined) return false;
          mine.posted.receipt = openReceipt(mine.key, record.key, record.value);
          keys.delete(record.key);
          return keys.size === 0;
        },
        options.timeoutMs,
        "the receipts of the records posted",
      )
      .catch((error: Error) => process.stderr.write(`${error.message}\n`));
  }
  return posted;
}

async function sealOne(
  item: Prepared & { cycle: string; region: string },
  tokens: Map<string, Credential>,
  directory: ForumDirectory,
  bus: Bus,
): Promise<{ posted: Posted; key: Uint8Array }> {
  const pair = `${item.cycle}/${item.region}`;
  let credential = tokens.get(pair);
  if (credential === undefined) throw new Error(`no token for ${pair}`);
  if (item.kind === "hostile:token") {
    // a well-formed token that does not verify: the signature of another region's token
    const other = [...tokens.values()].find((c) => c.cycle === item.cycle && c.region !== item.region)!;
    credential = { ...credential, token: other.token };
  }
  const envelopeId = uuid4();
  const record = signRecord(item.record, credential, envelopeId, item.owner);
  if (item.kind === "hostile:owner_sig") {
    // a well-formed Ed25519 signature by the owner key, over another revision
    record.owner_sig = signOwner({ ...record, revision: (record.revision as number) + 1 }, item.owner);
  }
  const payload = utf8(JSON.stringify(record));
  const size = item.kind === "hostile:padding" ? PADDED_WITHOUT_LESSON + 256 : paddedSize(record);
  const sealed = await seal({
    type: TYPE_CASE,
    region: item.region,
    schema: CASE_SCHEMA_VERSION,
    recipients: directory.regionKemKeys(item.region),
    padded: pad(payload, size),
    envelopeId,
  });
  const caseId = record.case_id as string;
  await bus.send(casesTopic(item.region), caseId, sealed.value);
  const posted: Posted = {
    line: item.line,
    kind: item.kind,
    case_id: caseId,
    revision: record.revision as number,
    region: item.region,
    envelope_id: envelopeId,
    receipt_id: receiptId(envelopeId),
    receipt: null,
  };
  return { posted, key: sealed.receiptKey };
}

export interface SummaryCheck {
  key: string | null;
  ok: boolean;
  summary?: VerifiedSummary;
  error?: string;
}

/** Read csp.reporting until *expected* summaries came (or the timeout); verify each. */
export async function verifySummaries(state: NodeState, directory: ForumDirectory, bus: Bus, expected: number, timeoutMs: number): Promise<SummaryCheck[]> {
  const checks: SummaryCheck[] = [];
  await bus
    .until(
      (record) => {
        if (record.topic !== CSP_TOPIC || record.value === null) return false;
        try {
          const held = state.data.summary_issues[record.key ?? ""];
          const summary = verifySummary(record.value, directory, held);
          state.data.summary_issues[summary.cycle] = summary.issue;
          checks.push({ key: record.key, ok: true, summary });
        } catch (error) {
          checks.push({ key: record.key, ok: false, error: (error as Error).message });
        }
        return checks.length >= expected;
      },
      timeoutMs,
      "the CSP summaries",
    )
    .catch((error: Error) => process.stderr.write(`${error.message}\n`));
  state.save();
  return checks;
}

export const READ_TOPICS = [CREDENTIAL_ANSWERS_TOPIC, RECEIPTS_TOPIC];
export { CSP_TOPIC };
