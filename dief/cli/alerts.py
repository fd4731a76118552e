"""``dief alerts``: the bulletins this node can open, and the node's watches (DESIGN §13).

``dief alerts`` lists what the node's store holds (the running node follows
``dief.bulletins`` into its outbox file: :class:`dief.bulletins.BulletinFollower`), each
bulletin in force with the checklist questions of its indicators and the watches it
matches, with the reason; ``dief alerts --read`` first reads the topic once into the store
(the node's copy of each directory version's group key, then every batch its region
signed). Anything that does not open or verify is ignored and counted, never shown.
``dief alerts watch add|list|remove`` keeps the node's watches; they
are evaluated here, and never sent anywhere.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import SecretStr
from rich.console import Console
from rich.markup import escape

from dief.bulletins import AlertLine, BulletinStore, WatchStore, node_follower
from dief.cli._console import (
    BootstrapOpt,
    EmbeddedOpt,
    err_console,
    kafka_options,
    keyring_passphrase,
    load_or_fail,
    run_or_fail,
)
from dief.exceptions import ConfigurationError
from dief.kafka import DIRECTORY_TOPIC, KafkaRecordFeed
from dief.keyring import DirectoryFollower, first_directory
from dief.node import Outbox, own_keys
from dief.settings import NodeSettings

__all__ = ["register"]

console = Console()
alerts_app = typer.Typer(
    name="alerts",
    help="Bulletins this node opened, with checklist questions and watch matches; watches.",
    invoke_without_command=True,
    no_args_is_help=False,
)
watch_app = typer.Typer(name="watch", help="This node's watches (kept and evaluated here only).")
alerts_app.add_typer(watch_app)


def _folder(outbox: Path | None) -> Path:
    settings = load_or_fail(NodeSettings, {"outbox": outbox}, connects=False)
    return settings.outbox.parent


def _watches(outbox: Path | None) -> WatchStore:
    return WatchStore(_folder(outbox) / "watches.json")


_OUTBOX = typer.Option("--outbox", help="The node's outbox file; its folder keeps bulletins")


@alerts_app.callback()
def alerts(
    ctx: typer.Context,
    outbox: Annotated[Path | None, _OUTBOX] = None,
    bootstrap: BootstrapOpt = None,
    embedded: EmbeddedOpt = False,
    read: Annotated[
        bool,
        typer.Option(
            "--read/--no-read",
            help="Read dief.bulletins once into the node's store first (the running node "
            "follows it anyway)",
        ),
    ] = False,
    passphrase_file: Annotated[
        Path | None, typer.Option("--passphrase-file", help="The keyring passphrase's file")
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to spend reading")] = 30.0,
    as_json: Annotated[bool, typer.Option("--json", help="JSON Lines on standard output")] = False,
) -> None:
    """List the bulletins in force at this node (newest first) from its store — what the
    running node followed — each with the checklist questions of its indicators and the
    watches it matches, with the reason."""
    if ctx.invoked_subcommand is not None:
        return
    settings = load_or_fail(
        NodeSettings,
        {"outbox": outbox, "kafka": kafka_options(bootstrap, embedded)},
        connects=read,
    )
    passphrase = keyring_passphrase(settings.keyring, passphrase_file) if read else None
    lines, ignored = run_or_fail(_listing(settings, passphrase, timeout))
    if ignored:
        err_console.print(f"{ignored} record(s) on dief.bulletins ignored (not opened or verified)")
    _show(lines, as_json)


async def _listing(
    settings: NodeSettings, passphrase: SecretStr | None, seconds: float
) -> tuple[list[AlertLine], int]:
    """The store's listing (after one read of the topic with *passphrase*) and how many
    records that read ignored."""
    folder = settings.outbox.parent
    outbox = Outbox(settings.outbox)
    await outbox.start()
    try:
        ignored = await _read(settings, passphrase, outbox, seconds) if passphrase else 0
        watches = WatchStore(folder / "watches.json").all()
        return await BulletinStore(outbox).listing(watches), ignored
    finally:
        await outbox.stop()


async def _read(
    settings: NodeSettings, passphrase: SecretStr, outbox: Outbox, seconds: float
) -> int:
    """Read ``dief.bulletins`` once, to its end, into the node's store."""
    ring = settings.keyring.unlock(passphrase, "the node KEM key is", settings.directory)
    keys = own_keys(ring, settings.node)
    holder = keys.holder
    if holder.current is None:
        feed = KafkaRecordFeed(settings.kafka, DIRECTORY_TOPIC, client_id="dief-alerts-directory")
        try:
            await first_directory(DirectoryFollower(feed, holder), holder)
        finally:
            await feed.close()
    follower = node_follower(
        settings.kafka,
        outbox,
        settings.outbox.parent,
        directory=holder.require,
        node_key=keys.kem_key,
    )
    try:
        if not await follower.read_to_end(seconds):
            err_console.print(f"dief.bulletins was not read to its end within {seconds:g} s")
    finally:
        await follower.close()
    return follower.ignored


def _show(lines: list[AlertLine], as_json: bool) -> None:
    if as_json:
        for line in lines:
            row = {
                "region": line.region,
                "issued_hour": line.issued_hour,
                "bulletin": line.entry.model_dump(mode="json", exclude_none=True),
                "questions": [{"indicator": i, "question": q} for i, q in line.questions],
                "watches": [{"watch": m.watch_id, "reason": m.reason} for m in line.matches],
            }
            typer.echo(json.dumps(row, ensure_ascii=False))
        return
    if not lines:
        console.print("No bulletins in force.")
        return
    for line in lines:
        e = line.entry
        console.print(
            f"[bold]{escape(line.region)}[/] {escape(e.month or '')} "
            f"{escape(e.kind or '')} · {escape(', '.join(e.item_categories))} · "
            f"{escape(e.transfer_stage or '')} · end user {escape(e.end_user_type or '')}"
        )
        console.print(f"  route: {escape(', '.join(e.route_regions))}")
        if e.methods:
            console.print(f"  methods: {escape(', '.join(e.methods))}")
        for match in line.matches:
            console.print(f"  [yellow]watch {escape(match.watch_id)}[/]: {escape(match.reason)}")
        for indicator, question in line.questions:
            console.print(f"  {escape(indicator)}: {escape(question)}")
        if e.lesson:
            console.print(f"  lesson: {escape(e.lesson)}")


@watch_app.command("add")
def watch_add(
    item_category: Annotated[list[str] | None, typer.Option("--item-category")] = None,
    end_user_type: Annotated[list[str] | None, typer.Option("--end-user-type")] = None,
    route_region: Annotated[list[str] | None, typer.Option("--route-region")] = None,
    stage: Annotated[list[str] | None, typer.Option("--stage")] = None,
    indicator: Annotated[list[str] | None, typer.Option("--indicator")] = None,
    label: Annotated[str, typer.Option("--label", help="A note for the officer")] = "",
    outbox: Annotated[Path | None, _OUTBOX] = None,
) -> None:
    """Add a watch: a bulletin matches when it has one of the values of every facet given."""
    try:
        watch = _watches(outbox).add(
            item_categories=item_category or (),
            end_user_types=end_user_type or (),
            route_regions=route_region or (),
            stages=stage or (),
            indicators=indicator or (),
            label=label,
        )
    except ConfigurationError as exc:
        raise typer.BadParameter(exc.message) from exc
    typer.echo(watch.watch_id)


@watch_app.command("list")
def watch_list(outbox: Annotated[Path | None, _OUTBOX] = None) -> None:
    """The node's watches, one per line."""
    for w in _watches(outbox).all():
        facets = {
            "item categories": w.item_categories,
            "end-user types": w.end_user_types,
            "route regions": w.route_regions,
            "stages": w.stages,
            "indicators": w.indicators,
        }
        text = "; ".join(f"{k}: {', '.join(v)}" for k, v in facets.items() if v)
        typer.echo(f"{w.watch_id}  {text}" + (f"  ({w.label})" if w.label else ""))


@watch_app.command("remove")
def watch_remove(
    watch_id: Annotated[str, typer.Argument(help="The watch's id (dief alerts watch list)")],
    outbox: Annotated[Path | None, _OUTBOX] = None,
) -> None:
    """Remove a watch."""
    if not _watches(outbox).remove(watch_id):
        raise typer.BadParameter(f"no watch {watch_id!r}")


def register(app: typer.Typer) -> None:
    """Add the ``alerts`` sub-app to *app*."""
    app.add_typer(alerts_app)
