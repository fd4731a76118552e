// The case record, payload schema 3 (DESIGN §5, docs/case-model.md, docs/reference-node.md
// "Case record"): what a node seals for its region. No day (the month only), no exact
// quantity (a band), no submitted_by, no practitioner reference; every list holds each
// value once. The record names its envelope's id, so the owner signature covers it.
//
// This node checks the shape it builds, not every rule: the aggregator re-validates
// everything (vocabularies, catalogue ids, cross-field rules) and dead-letters what breaks
// them, which is what the reference node's hostile mode demonstrates.

import { b64url } from "./bytes.js";
import { isObject } from "./json.js";
import { OwnerKey, caseIdFor, signOwner } from "./identity.js";
import { Credential } from "./credentials.js";

export const CASE_SCHEMA_VERSION = 3;
export const TYPE_CASE = "dief.case";
/** Padded plaintext sizes of a case record: without a lesson, with one (DESIGN §3). The test
 * vectors carry the Python side's values; test/vectors.test.ts checks they are these. */
export const PADDED_WITHOUT_LESSON = 8960;
export const PADDED_WITH_LESSON = 16896;
export const FIRST_CYCLE_BASE_YEAR = 2013;

export type Input = Record<string, unknown>;
export type UnsignedRecord = Record<string, unknown>;

function band(quantity: unknown): string {
  if (quantity === undefined || quantity === null || quantity === "unknown") return "unknown";
  if (typeof quantity === "string" && /^(1-10|11-100|101-1000|1001-10000|>10000)$/.test(quantity)) return quantity;
  if (typeof quantity !== "number" || !Number.isInteger(quantity) || quantity < 1) {
    throw new Error("items[].quantity: an integer of at least 1, a band or 'unknown'");
  }
  if (quantity <= 10) return "1-10";
  if (quantity <= 100) return "11-100";
  if (quantity <= 1000) return "101-1000";
  if (quantity <= 10000) return "1001-10000";
  return ">10000";
}

export function monthOf(detected: unknown): string {
  if (typeof detected !== "string") throw new Error("detected: YYYY-MM or YYYY-MM-DD");
  const match = /^(\d{4})-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?$/.exec(detected);
  if (match === null) throw new Error("detected: YYYY-MM or YYYY-MM-DD");
  return `${match[1]}-${match[2]}`;
}

/** The CSP cycle of a month (CSPn starts in *startMonth* of 2013 + n). */
export function cycleOf(month: string, startMonth: number): string {
  const [year, mon] = month.split("-").map(Number) as [number, number];
  let number = year - FIRST_CYCLE_BASE_YEAR;
  if (mon < startMonth) number -= 1;
  if (number < 1) throw new Error("before the first CSP cycle");
  return `CSP${number}`;
}

function list(value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value : [value];
}

/** The values of *value* as strings, each once, in the order given. */
function distinct(value: unknown): string[] {
  return [...new Set(list(value).map(String))];
}

function actors(value: unknown): { role: string; registered: string }[] {
  const seen = new Set<string>();
  const out = [];
  for (const actor of list(value)) {
    const role = isObject(actor) ? String(actor.role) : String(actor);
    const registered = isObject(actor) && actor.registered !== undefined ? String(actor.registered) : "unknown";
    if (!seen.has(`${role}/${registered}`)) {
      seen.add(`${role}/${registered}`);
      out.push({ role, registered });
    }
  }
  return out;
}

function optionalOutcome(value: unknown): string | null {
  return value === undefined || value === null ? null : String(value);
}

export interface Generalised {
  fields: UnsignedRecord;
  region: string;
  cycle: string;
}

/** The record a node publishes for *input*, before credential, envelope id and signature.
 * *revision* and the owner key come from the node's case index. */
export function generalise(
  input: Input,
  options: { revision: number; owner: OwnerKey; startMonth: number; catalogueVersion: string },
): Generalised {
  const region = String(input.region);
  const month = monthOf(input.detected);
  const cycle = cycleOf(month, options.startMonth);
  const items = list(input.items).map((item) => {
    if (!isObject(item)) throw new Error("items[]: objects with category and quantity");
    return {
      category: String(item.category),
      band: band(item.quantity),
      subcategory: optionalOutcome(item.subcategory),
    };
  });
  const verification = isObject(input.verification)
    ? { check: String(input.verification.check), outcome: optionalOutcome(input.verification.outcome) }
    : null;
  const reassessment = isObject(input.reassessment)
    ? { reassessed: input.reassessment.reassessed === true, outcome: optionalOutcome(input.reassessment.outcome) }
    : null;
  const summary = typeof input.summary === "string" && input.summary.length > 0 ? input.summary : null;
  const fields: UnsignedRecord = {
    case_id: caseIdFor(region, cycle, options.owner.publicKey),
    revision: options.revision,
    status: String(input.status ?? "active"),
    kind: String(input.kind ?? "case"),
    confidence: String(input.confidence),
    region,
    related_regions: distinct(input.related_regions),
    detected_month: month,
    items,
    transfer_stage: String(input.transfer_stage),
    transfer_type: String(input.transfer_type ?? "unknown"),
    methods: distinct(input.methods),
    transport_modes: distinct(input.transport_modes),
    maritime: distinct(input.maritime),
    actor_roles: actors(input.actor_roles),
    end_user_type: String(input.end_user_type ?? "unknown"),
    risk_indicators: distinct(input.risk_indicators),
    detection_source: String(input.detection_source),
    actions_taken: distinct(input.actions_taken),
    verification,
    reassessment,
    tlp: String(input.tlp ?? "amber"),
    summary,
    cycle,
    catalogue_version: options.catalogueVersion,
    owner_key: b64url(options.owner.publicKey),
  };
  return { fields, region, cycle };
}

/** The signed record: credential, envelope id, then the owner signature over JCS of all. */
export function signRecord(
  fields: UnsignedRecord,
  credential: Credential,
  envelopeId: string,
  owner: OwnerKey,
): Record<string, unknown> {
  if (credential.cycle !== fields.cycle || credential.region !== fields.region) {
    throw new Error("the credential is not of the record's cycle and region");
  }
  const record: Record<string, unknown> = {
    ...fields,
    contributor: credential.contributor,
    contributor_token: b64url(credential.token),
    envelope_id: envelopeId,
  };
  record.owner_sig = signOwner(record, owner);
  return record;
}

/** The padded size of a record's plaintext: by whether it carries a lesson. */
export function paddedSize(record: Record<string, unknown>): number {
  return record.summary === null || record.summary === undefined ? PADDED_WITHOUT_LESSON : PADDED_WITH_LESSON;
}
