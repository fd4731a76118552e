#!/usr/bin/env node
// dief-reference-node: a national node in TypeScript, from the published contracts.
//
//   node dist/src/cli.js init --state DIR [--created TIME]
//       a new node (secret, registration key, X-Wing KEM key); writes DIR/registration.json
//       for the Secretariat (`dief keys register`)
//   node dist/src/cli.js post --state DIR --directory FILE --root-fingerprint HEX
//       --bootstrap HOST:PORT --cases FILE.jsonl [--hostile owner_sig,token,padding,indicator]
//       [--catalogue-version V] [--timeout SECONDS]
//       verifies the directory, gets its tokens, posts every case; prints the records sent
//       and their receipts as JSON
//   node dist/src/cli.js verify-summaries --state DIR --directory FILE --root-fingerprint HEX
//       --bootstrap HOST:PORT --expect N [--timeout SECONDS]
//       reads csp.reporting and verifies every summary; exit 1 if one does not verify
//   node dist/src/cli.js verify-summary --directory FILE --root-fingerprint HEX --at TIME FILE
//   node dist/src/cli.js open-bulletins --state DIR --directory FILE --root-fingerprint HEX
//       --release FILE [--at TIME] FILE...
//       this node's copy of the group key from the release, then each sealed batch FILE
//       opened and verified: one JSON line per FILE ({"region","issued_hour","entries"}, or
//       {"ignored": reason}); exit 1 if the release gives no key
//
// Output on stdout is JSON; errors go to stderr with exit status 2 (usage) or 1 (failure).

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

import { BulletinError, openBulletins, openGroupKey } from "./bulletins.js";
import { verifyDirectory } from "./directory.js";
import { Bus, CSP_TOPIC } from "./kafka.js";
import { HOSTILE_KINDS, HostileKind, READ_TOPICS, loadDirectory, post, verifySummaries } from "./node.js";
import { NodeState } from "./state.js";
import { verifySummary } from "./summary.js";

/** The newest risk-indicator catalogue version the aggregators ship (DESIGN §6). */
const DEFAULT_CATALOGUE_VERSION = "2026.2";

const OPTIONS = {
  state: { type: "string" },
  directory: { type: "string" },
  "root-fingerprint": { type: "string" },
  bootstrap: { type: "string" },
  cases: { type: "string" },
  hostile: { type: "string" },
  "catalogue-version": { type: "string" },
  timeout: { type: "string", default: "90" },
  expect: { type: "string", default: "1" },
  created: { type: "string" },
  at: { type: "string" },
  release: { type: "string" },
} as const;

function need(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== "string" || value.length === 0) {
    process.stderr.write(`missing --${name}\n`);
    process.exit(2);
  }
  return value;
}

function nowStamp(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, "Z");
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
  const timeoutMs = Number(values.timeout) * 1000;
  if (command === "init") {
    const folder = need(values, "state");
    const state = NodeState.create(folder);
    const registration = await state.registration(values.created ?? nowStamp());
    writeFileSync(join(folder, "registration.json"), JSON.stringify(registration, null, 1));
    process.stdout.write(JSON.stringify({ registration_kid: registration.registration_kid, kem_kid: registration.kem_kid }) + "\n");
    return 0;
  }
  if (command === "verify-summary") {
    const directory = verifyDirectory(
      readFileSync(need(values, "directory")),
      need(values, "root-fingerprint"),
      undefined,
      values.at === undefined ? Date.now() : Date.parse(values.at),
    );
    const results = positionals.map((file) => verifySummary(readFileSync(file), directory));
    process.stdout.write(JSON.stringify(results) + "\n");
    return 0;
  }
  if (command === "open-bulletins") {
    const state = NodeState.load(need(values, "state"));
    const directory = verifyDirectory(
      readFileSync(need(values, "directory")),
      need(values, "root-fingerprint"),
      undefined,
      values.at === undefined ? Date.now() : Date.parse(values.at),
    );
    const group = await openGroupKey(readFileSync(need(values, "release")), directory, await state.kemKey());
    for (const file of positionals) {
      try {
        const opened = await openBulletins(new Uint8Array(readFileSync(file)), [group], directory);
        const row = { region: opened.region, issued_hour: opened.issuedHour, entries: opened.entries };
        process.stdout.write(JSON.stringify(row) + "\n");
      } catch (error) {
        const reason = error instanceof BulletinError ? error.reason : "not_opened";
        process.stdout.write(JSON.stringify({ ignored: reason }) + "\n");
      }
    }
    return 0;
  }
  if (command !== "post" && command !== "verify-summaries") {
    process.stderr.write("usage: cli.js init|post|verify-summaries|verify-summary|open-bulletins [options]\n");
    return 2;
  }
  const state = NodeState.load(need(values, "state"));
  const directory = loadDirectory(state, readFileSync(need(values, "directory")), need(values, "root-fingerprint"));
  const bus = new Bus(need(values, "bootstrap"));
  try {
    if (command === "post") {
      const hostile = (values.hostile ?? "").split(",").filter((k) => k.length > 0);
      for (const kind of hostile) {
        if (!(HOSTILE_KINDS as readonly string[]).includes(kind)) throw new Error(`unknown hostile kind ${kind}`);
      }
      await bus.connect(READ_TOPICS);
      const lines = readFileSync(need(values, "cases"), "utf-8").split("\n");
      const posted = await post(state, bus, lines, {
        directory,
        // the flag, else the newest version the directory names, else the newest shipped
        catalogueVersion: values["catalogue-version"] ?? directory.parameters.catalogue_versions?.at(-1) ?? DEFAULT_CATALOGUE_VERSION,
        timeoutMs,
        hostile: hostile as HostileKind[],
      });
      process.stdout.write(JSON.stringify(posted) + "\n");
      return 0;
    }
    await bus.connect([CSP_TOPIC]);
    const checks = await verifySummaries(state, directory, bus, Number(values.expect), timeoutMs);
    process.stdout.write(JSON.stringify(checks) + "\n");
    return checks.length > 0 && checks.every((c) => c.ok) ? 0 : 1;
  } finally {
    await bus.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`dief-reference-node: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
