"""Before the brokers start: TLS material, SCRAM passwords, each broker's folder and
``server.properties`` (:mod:`dief.kafka_cluster._config`), and the storage formatted with
the SCRAM users (``kafka.tools.StorageTool format --add-scram``), all brokers at once."""

from __future__ import annotations

import base64
import secrets
import subprocess  # noqa: S404  runs the broker's own programs with a fixed argv, never a shell
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dief.broker import format_tail, pick_free_port
from dief.exceptions import BrokerStartError
from dief.kafka_cluster._acls import principals
from dief.kafka_cluster._config import (
    ADMIN_USER,
    CLIENT_LISTENER,
    CONTROLLER_LISTENER,
    LEAN_SETTINGS,
    SCRAM_MECHANISM,
    SHARED_BROKER_SETTINGS,
    render_properties,
    replication_settings,
)
from dief.kafka_cluster._node import BrokerProcess, NodeLayout, jvm_options, write_log4j
from dief.kafka_cluster._tls import TlsFiles, write_tls

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from pathlib import Path

    from dief.kafka_cluster._runtime import KafkaRuntime

__all__ = ["HOST", "Prepared", "new_cluster_id", "prepare_brokers"]

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Prepared:
    """What :func:`prepare_brokers` made: the TLS files, every SCRAM user's password and
    the (not yet started) broker processes."""

    tls: TlsFiles
    passwords: Mapping[str, str] = field(repr=False)
    nodes: Sequence[BrokerProcess]


def prepare_brokers(  # noqa: PLR0913  a keyword signature of settings, each with its default
    folder: Path,
    runtime: KafkaRuntime,
    *,
    brokers: int,
    client_ports: Sequence[int] | None,
    advertised_ports: Sequence[int] | None,
    heap_mb: int,
) -> Prepared:
    """Blocking: write everything the brokers need into *folder* and format their storage.

    :raises BrokerStartError: the storage tool failed (its output quoted, passwords masked).
    """
    tls = write_tls(folder / "tls")
    users = [ADMIN_USER, *(p.removeprefix("User:") for p in principals())]
    passwords = {user: secrets.token_urlsafe(18) for user in users}
    log4j = write_log4j(folder / "log4j2.properties")
    ports = client_ports or tuple(pick_free_port() for _ in range(brokers))
    layouts = [
        NodeLayout(i, ports[i - 1], pick_free_port(), folder / f"broker-{i}")
        for i in range(1, brokers + 1)
    ]
    voters = ",".join(f"{n.node_id}@{HOST}:{n.controller_port}" for n in layouts)
    for layout in layouts:
        advertised = advertised_ports[layout.node_id - 1] if advertised_ports else None
        settings = _properties(layout, voters, brokers, tls, passwords[ADMIN_USER], advertised)
        layout.folder.mkdir()
        layout.properties.write_text(render_properties(settings), encoding="utf-8")
        layout.properties.chmod(0o600)
    _format(runtime, layouts, log4j, passwords)
    nodes = [BrokerProcess(runtime, layout, heap_mb=heap_mb, log4j=log4j) for layout in layouts]
    return Prepared(tls, passwords, nodes)


def _properties(  # noqa: PLR0913, PLR0917  a keyword signature of settings, each with its default
    layout: NodeLayout,
    voters: str,
    brokers: int,
    tls: TlsFiles,
    admin_password: str,
    advertised: int | None,
) -> dict[str, str]:
    jaas = (
        "org.apache.kafka.common.security.scram.ScramLoginModule required "
        f'username="{ADMIN_USER}" password="{admin_password}";'
    )
    client = f"{HOST}:{layout.client_port}"
    return {
        **SHARED_BROKER_SETTINGS,
        **replication_settings(brokers),
        **LEAN_SETTINGS,
        "node.id": str(layout.node_id),
        "controller.quorum.voters": voters,
        "listeners": (
            f"{CLIENT_LISTENER}://{client},{CONTROLLER_LISTENER}://{HOST}:{layout.controller_port}"
        ),
        "advertised.listeners": f"{CLIENT_LISTENER}://{HOST}:{advertised or layout.client_port}",
        "log.dirs": str(layout.data),
        "ssl.keystore.location": str(tls.keystore),
        "ssl.keystore.password": tls.keystore_password,
        "ssl.key.password": tls.keystore_password,
        "ssl.truststore.location": str(tls.ca_file),
        f"listener.name.{CLIENT_LISTENER.lower()}.scram-sha-512.sasl.jaas.config": jaas,
    }


def new_cluster_id(draw: Callable[[], bytes] = lambda: uuid.uuid4().bytes) -> str:
    """A Kafka cluster id (16 bytes, base64url without padding) that does not start with ``-``.

    One id in 64 would, and ``kafka-storage format`` then takes it for an option and stops
    ("argument --cluster-id/-t: expected one argument"). Kafka's own ``Uuid.randomUuid``
    draws again in that case; so does this.
    """
    while True:
        made = base64.urlsafe_b64encode(draw()).decode().rstrip("=")
        if not made.startswith("-"):
            return made


def _format(
    runtime: KafkaRuntime, layouts: list[NodeLayout], log4j: Path, passwords: Mapping[str, str]
) -> None:
    cluster_id = new_cluster_id()
    scram = [
        arg
        for user, password in passwords.items()
        for arg in ("--add-scram", f"{SCRAM_MECHANISM}=[name={user},password={password}]")
    ]
    formats = [
        subprocess.Popen(
            [
                str(runtime.java),
                *jvm_options(256, log4j, tool=True),
                "-cp",
                runtime.classpath,
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                cluster_id,
                "--config",
                str(layout.properties),
                *scram,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        for layout in layouts
    ]
    for layout, proc in zip(layouts, formats, strict=True):
        out, _ = proc.communicate(timeout=120)
        if proc.returncode != 0:
            text = out.decode(errors="replace")
            for password in passwords.values():
                text = text.replace(password, "***")
            raise BrokerStartError(
                f"formatting the storage of Kafka broker {layout.node_id} failed "
                f"({proc.returncode}).{format_tail(text.strip()[-3000:])}"
            )
