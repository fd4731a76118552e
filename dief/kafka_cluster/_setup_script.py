"""``deploy/kafka/setup.sh``, generated from the ACL matrix and the DIEF topic set.

The script creates the topics (:func:`deployed_topics`, replication factor 3) and
the grants of :mod:`dief.kafka_cluster._acls` with Kafka's own tools, once, against the
production cluster with the admin credentials. Regenerate it with
``python -m dief.kafka_cluster setup-script > deploy/kafka/setup.sh``; a test fails when
the file and this code disagree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dief.kafka import DEFAULT_CASE_PARTITIONS, TopicSpec
from dief.kafka_cluster._acls import REGION, AclGrant, region_template, shared_template
from dief.kafka_cluster._config import deployed_topics
from dief.vocab import Region

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["render_setup_script"]

_SHELL_REGION = "${region}"

_HEADER = """\
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
"""


def _shell(text: str) -> str:
    """*text* with the region placeholder as the loop variable, quoted if it holds one."""
    if REGION not in text:
        return text
    return '"' + text.replace(REGION, _SHELL_REGION) + '"'


def _topic_line(spec: TopicSpec, indent: str) -> str:
    line = (
        f"{indent}kt --create --if-not-exists --topic {_shell(spec.name)} "
        f"--partitions {spec.partitions} --replication-factor {spec.replication_factor}"
    )
    configs = " ".join(f"--config {k}={v}" for k, v in spec.configs)
    return f"{line} \\\n{indent}   {configs}" if configs else line


def _acl_line(grant: AclGrant, indent: str) -> str:
    ops = " ".join(f"--operation {op}" for op in grant.operations)
    resource = f"--{grant.resource} {_shell(grant.name)}"
    if grant.pattern == "prefixed":
        resource += " --resource-pattern-type prefixed"
    return (
        f'{indent}acl --add --allow-principal "{grant.principal.replace(REGION, _SHELL_REGION)}" '
        f"{ops} \\\n"
        f"{indent}    {resource}"
    )


def _region_topics(specs: Iterable[TopicSpec]) -> tuple[list[TopicSpec], list[TopicSpec]]:
    """The per-region topics (as templates, once) and the shared ones, in order."""
    per_region: list[TopicSpec] = []
    shared: list[TopicSpec] = []
    for spec in specs:
        code = next((r.topic_code for r in Region if f".{r.topic_code}." in spec.name), None)
        if code is None:
            shared.append(spec)
            continue
        template = TopicSpec(
            spec.name.replace(f".{code}.", f".{REGION}."),
            spec.partitions,
            spec.replication_factor,
            spec.configs,
        )
        if template not in per_region:
            per_region.append(template)
    return per_region, shared


def render_setup_script(partitions: int = DEFAULT_CASE_PARTITIONS) -> str:
    """The text of ``deploy/kafka/setup.sh`` (three brokers: replication factor 3)."""
    per_region, shared = _region_topics(deployed_topics(partitions, 3))
    codes = " ".join(r.topic_code for r in Region)
    lines = [_HEADER, f"for region in {codes}; do"]
    lines += [_topic_line(spec, "  ") for spec in per_region]
    lines += [_acl_line(grant, "  ") for grant in region_template()]
    lines.append("done")
    lines += [_topic_line(spec, "") for spec in shared]
    lines += [_acl_line(grant, "") for grant in shared_template()]
    return "\n".join(lines) + "\n"
