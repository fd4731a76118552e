// The node's own state, in one JSON file (mode 0600) under its state folder: its secret, its
// registration key, its KEM key, the case index, its tokens, the directory version it holds
// and the newest summary issue per cycle. A reference node: a production node keeps this
// encrypted under its own passphrase (DESIGN §4), as the Python node does.

import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { b64url, hex, unhex } from "./bytes.js";
import { CONTEXT_REGISTRATION } from "./directory.js";
import { KemPrivateKey, SUITE_HYBRID, kemPrivateKey, kemPublicOf } from "./envelope.js";
import { SigningKey, signDocument } from "./signing.js";

export interface CaseEntry {
  case_id: string;
  index: number;
  region: string;
  cycle: string;
  revision: number;
}

export interface StoredToken {
  contributor: string;
  token: string;
  issuer_kid: string;
}

export interface StateData {
  format: "dief-reference-node/1";
  secret: string;
  registration_key: string;
  kem_suite: string;
  kem_secret: string;
  next_index: number;
  cases: Record<string, CaseEntry>;
  tokens: Record<string, StoredToken>;
  directory: string | null;
  summary_issues: Record<string, number>;
}

export class NodeState {
  readonly path: string;
  data: StateData;

  private constructor(path: string, data: StateData) {
    this.path = path;
    this.data = data;
  }

  static file(folder: string): string {
    return join(folder, "state.json");
  }

  static load(folder: string): NodeState {
    const path = NodeState.file(folder);
    const data = JSON.parse(readFileSync(path, "utf-8")) as StateData;
    if (data.format !== "dief-reference-node/1") throw new Error(`${path} is not a reference node's state`);
    return new NodeState(path, data);
  }

  /** A new node: 32 random bytes of secret, a registration key, an X-Wing KEM key. */
  static create(folder: string, suite = SUITE_HYBRID): NodeState {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    const path = NodeState.file(folder);
    if (existsSync(path)) throw new Error(`${path} exists: a node is initialised once`);
    const state = new NodeState(path, {
      format: "dief-reference-node/1",
      secret: hex(randomBytes(32)),
      registration_key: hex(randomBytes(64)),
      kem_suite: suite,
      kem_secret: hex(randomBytes(32)),
      next_index: 0,
      cases: {},
      tokens: {},
      directory: null,
      summary_issues: {},
    });
    state.save();
    return state;
  }

  save(): void {
    const staged = `${this.path}.tmp`;
    writeFileSync(staged, JSON.stringify(this.data, null, 1), { mode: 0o600 });
    chmodSync(staged, 0o600);
    renameSync(staged, this.path);
  }

  get secret(): Uint8Array {
    return unhex(this.data.secret);
  }

  registrationKey(): SigningKey {
    return new SigningKey(unhex(this.data.registration_key));
  }

  kemKey(): Promise<KemPrivateKey> {
    return kemPrivateKey(this.data.kem_suite, unhex(this.data.kem_secret));
  }

  /** The signed registration file the node hands the Secretariat (dief-registration/1). */
  async registration(created: string): Promise<Record<string, unknown>> {
    const key = this.registrationKey();
    const kem = await kemPublicOf(await this.kemKey());
    const document = {
      format: "dief-registration/1",
      registration_kid: key.kid,
      registration_public: b64url(key.verifyKey.publicBytes),
      kem_kid: kem.kid,
      kem_alg: kem.suite,
      kem_public: b64url(kem.publicBytes),
      created,
    };
    return signDocument(document, key, CONTEXT_REGISTRATION);
  }

  toString(): string {
    return "NodeState(<secret>)";
  }
}
