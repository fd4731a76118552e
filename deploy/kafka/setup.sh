#!/usr/bin/env bash
# GENERATED from dief/kafka_cluster (the ACL matrix of DESIGN §2) and dief.kafka.dief_topics:
# do not edit; run `python -m dief.kafka_cluster setup-script > deploy/kafka/setup.sh`
# (tests/kafka/test_deploy_sources.py fails when they disagree).
#
# Creates the DIEF topics and the ACLs that make "partitioned by region" enforceable: each
# regional aggregator reads only dief.<region>.* (its cases and DLQ) with its own consumer
# groups, writes its DLQ, digests, receipts and route tables, and reads the route topic, the
# directory and csp.reporting, and writes bulletins (reading back the group key releases);
# national nodes (one principal, User:node) write the five dief.<region>.cases topics and
# credential requests, and read only receipts, credential answers, bulletins and the
# directory (assigned partitions, no consumer group); the Secretariat reads digests and
# credential requests, writes csp.reporting, credential answers, the signed directory and
# each directory version's bulletin group key release, and writes a refused digest to the
# DLQ of the region it claims (docs/secretariat.md). Nothing else is allowed
# (allow.everyone.if.no.acl.found=false).
# Run once against the cluster with the admin credentials.
set -euo pipefail
BOOT="${BOOTSTRAP:-kafka-1:9094}"
CFG="${ADMIN_CONFIG:-/etc/kafka/secrets/admin.properties}"
kt() { /opt/kafka/bin/kafka-topics.sh --bootstrap-server "$BOOT" --command-config "$CFG" "$@"; }
acl() { /opt/kafka/bin/kafka-acls.sh --bootstrap-server "$BOOT" --command-config "$CFG" "$@"; }

for region in afr apg eeg grulac weog; do
  kt --create --if-not-exists --topic "dief.${region}.cases" --partitions 3 --replication-factor 3
  kt --create --if-not-exists --topic "dief.${region}.dlq" --partitions 1 --replication-factor 3
  acl --add --allow-principal "User:aggregator-${region}" --operation Read --operation Describe \
      --topic "dief.${region}." --resource-pattern-type prefixed
  acl --add --allow-principal "User:aggregator-${region}" --operation Write \
      --topic "dief.${region}.dlq"
  acl --add --allow-principal "User:aggregator-${region}" --operation Read \
      --group "dief-aggregator-${region}"
  acl --add --allow-principal "User:aggregator-${region}" --operation Read \
      --group "dief-routes-${region}"
  acl --add --allow-principal "User:aggregator-${region}" --operation Write \
      --topic dief.digests
  acl --add --allow-principal "User:aggregator-${region}" --operation Write \
      --topic dief.receipts
  acl --add --allow-principal "User:aggregator-${region}" --operation Write --operation Read --operation Describe \
      --topic dief.routes
  acl --add --allow-principal "User:aggregator-${region}" --operation Read --operation Describe \
      --topic dief.directory
  acl --add --allow-principal "User:aggregator-${region}" --operation Read --operation Describe \
      --topic csp.reporting
  acl --add --allow-principal "User:aggregator-${region}" --operation Write --operation Read --operation Describe \
      --topic dief.bulletins
  acl --add --allow-principal "User:node" --operation Write --operation Describe \
      --topic "dief.${region}.cases"
  acl --add --allow-principal "User:secretariat" --operation Write \
      --topic "dief.${region}.dlq"
done
kt --create --if-not-exists --topic dief.digests --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic csp.reporting --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.receipts --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.routes --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.credentials.requests --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.credentials.answers --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.bulletins --partitions 1 --replication-factor 3
kt --create --if-not-exists --topic dief.directory --partitions 1 --replication-factor 3 \
   --config cleanup.policy=compact
acl --add --allow-principal "User:node" --operation Read --operation Describe \
    --topic dief.receipts
acl --add --allow-principal "User:node" --operation Read --operation Describe \
    --topic dief.directory
acl --add --allow-principal "User:node" --operation Write --operation Describe \
    --topic dief.credentials.requests
acl --add --allow-principal "User:node" --operation Read --operation Describe \
    --topic dief.credentials.answers
acl --add --allow-principal "User:node" --operation Read --operation Describe \
    --topic dief.bulletins
acl --add --allow-principal "User:secretariat" --operation Read --operation Describe \
    --topic dief.digests
acl --add --allow-principal "User:secretariat" --operation Read \
    --group dief-secretariat
acl --add --allow-principal "User:secretariat" --operation Write \
    --topic csp.reporting
acl --add --allow-principal "User:secretariat" --operation Write --operation Read --operation Describe \
    --topic dief.directory
acl --add --allow-principal "User:secretariat" --operation Read --operation Describe \
    --topic dief.credentials.requests
acl --add --allow-principal "User:secretariat" --operation Read \
    --group dief-issuer
acl --add --allow-principal "User:secretariat" --operation Write \
    --topic dief.credentials.answers
acl --add --allow-principal "User:secretariat" --operation Write \
    --topic dief.bulletins
