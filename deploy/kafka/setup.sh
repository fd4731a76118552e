#!/usr/bin/env bash
# Creates the DIEF topics (DESIGN §2) and the prefix ACLs that make "partitioned by region"
# enforceable: each regional aggregator reads and writes only dief.<region>.* (and writes its
# digests to dief.digests, its receipts to dief.receipts, its route tables to dief.routes,
# which it also reads to find the tables sealed to it), national nodes may only write
# dief.*.cases and credential requests, and read receipts, credential answers and the
# directory (without a consumer group: no group ACL); the Secretariat reads dief.digests and
# credential requests, writes csp.reporting, credential answers and the signed directory, and
# writes a refused digest to the DLQ of the region it claims (docs/secretariat.md). Everyone
# reads dief.directory. Run once against the cluster with the admin credentials.
set -euo pipefail
BOOT="${BOOTSTRAP:-kafka-1:9094}"
CFG="${ADMIN_CONFIG:-/etc/kafka/secrets/admin.properties}"
kt() { /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOT" --command-config "$CFG" "$@"; }
acl() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$BOOT" --command-config "$CFG" "$@"; }

for region in afr apg eeg grulac weog; do
  kt --create --if-not-exists --topic "dief.${region}.cases" --partitions 3 --replication-factor 3
  kt --create --if-not-exists --topic "dief.${region}.dlq" --partitions 1 --replication-factor 3
  # The region's aggregator: its own prefix only, and its own consumer group.
  acl --add --allow-principal "User:aggregator-${region}" --operation Read --operation Describe \
      --topic "dief.${region}." --resource-pattern-type prefixed
  acl --add --allow-principal "User:aggregator-${region}" --operation Write \
      --topic "dief.${region}.dlq"
  acl --add --allow-principal "User:aggregator-${region}" --operation Read \
      --group "dief-aggregator-${region}"
  acl --add --allow-principal "User:aggregator-${region}" --operation Write \
      --topic dief.digests
  acl --add --allow-principal "User:aggregator-${region}" --operation Write \
      --topic dief.receipts
  acl --add --allow-principal "User:aggregator-${region}" --operation Write --operation Read \
      --operation Describe --topic dief.routes
  acl --add --allow-principal "User:aggregator-${region}" --operation Read --operation Describe \
      --topic dief.directory
  # National nodes write cases and read nothing but receipts (below).
  acl --add --allow-principal "User:node" --operation Write --operation Describe \
      --topic "dief.${region}.cases"
  # The Secretariat dead-letters a refused digest to the region it claims (write only).
  acl --add --allow-principal "User:secretariat" --operation Write \
      --topic "dief.${region}.dlq"
done
kt --create --if-not-exists --topic dief.digests --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic csp.reporting --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.receipts --partitions 1 --replication-factor 3
# Every node reads every receipt (assigned partitions, no group) and opens only its own.
acl --add --allow-principal "User:node" --operation Read --operation Describe --topic dief.receipts
acl --add --allow-principal "User:secretariat" --operation Read --operation Describe --topic dief.digests
acl --add --allow-principal "User:secretariat" --operation Read --group dief-secretariat
acl --add --allow-principal "User:secretariat" --operation Write --topic csp.reporting
kt --create --if-not-exists --topic dief.routes --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.directory --partitions 1 --replication-factor 3 \
   --config cleanup.policy=compact
kt --create --if-not-exists --topic dief.credentials.requests --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.credentials.answers --partitions 1 --replication-factor 3
# The signed directory: the Secretariat's directory signer writes it, everyone reads it.
acl --add --allow-principal "User:secretariat" --operation Write --operation Read \
    --operation Describe --topic dief.directory
acl --add --allow-principal "User:node" --operation Read --operation Describe --topic dief.directory
# Contributor credentials (DESIGN §5): nodes ask, the Secretariat's issuer answers; every node
# reads every (sealed) answer and opens only its own.
acl --add --allow-principal "User:node" --operation Write --operation Describe \
    --topic dief.credentials.requests
acl --add --allow-principal "User:node" --operation Read --operation Describe \
    --topic dief.credentials.answers
acl --add --allow-principal "User:secretariat" --operation Read --operation Describe \
    --topic dief.credentials.requests
acl --add --allow-principal "User:secretariat" --operation Read --group dief-issuer
acl --add --allow-principal "User:secretariat" --operation Write --topic dief.credentials.answers
