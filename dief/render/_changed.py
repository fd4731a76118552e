"""Rendering and writing an output file only when its inputs or bytes changed (issue #15).

A re-issue writes the region's whole directory again; most documents are the same as in
the last issue. Two guards keep that cheap:

- :func:`write_atomic` leaves a file whose bytes are already what would be written
  untouched (no rename, its modification time kept), so a mirror, a web server's cache or
  a reader watching the folder sees only what changed;
- :class:`Manifest` (``<out>/.dief/manifest.json``) remembers, per output file, the
  fingerprint of everything its rendering drew on (:func:`fingerprint`: the document's
  content as its JSON, the charts' series, the options, the dief version, the package's
  code with its templates, the labels as they are at run time and the rendering
  libraries' versions: :func:`render_context`) and the SHA-256 of the bytes written.
  Before rendering, :meth:`Manifest.current` says whether the file on disk is still that
  rendering: same inputs and the same bytes. A missing or edited file, a new dief version,
  a changed label or template is rendered again; a fresh folder has no manifest, so
  everything is rendered. The manifest only ever says "these bytes came from these
  inputs", written after the file, so a run that stops half-way leaves it true.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
from functools import cache
from pathlib import Path

import dief
from dief._files import write_atomic as _write_atomic
from dief.labels import VALUE_LABELS
from dief.secretariat import DIMENSION_LABELS
from dief.vocab import REGION_NAMES

__all__ = ["MANIFEST", "Manifest", "fingerprint", "render_context", "write_atomic"]

#: the manifest, relative to the output folder
MANIFEST = Path(".dief") / "manifest.json"
_FORMAT = 1


def write_atomic(path: Path, data: str | bytes) -> bool:
    """Write *data* to *path* atomically (:func:`dief._files.write_atomic`) unless *path*
    already holds exactly that; returns whether it wrote."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        if path.stat().st_size == len(raw) and path.read_bytes() == raw:
            return False
    except OSError:
        pass  # no such file (or unreadable): write it
    _write_atomic(path, data)
    return True


def fingerprint(*parts: str | bytes) -> str:
    """The SHA-256 (hex) of *parts*, each length-prefixed (so no two lists collide)."""
    digest = hashlib.sha256()
    for part in parts:
        raw = part.encode("utf-8") if isinstance(part, str) else part
        digest.update(len(raw).to_bytes(8, "big"))
        digest.update(raw)
    return digest.hexdigest()


#: the libraries whose versions can change a rendering's bytes
_LIBRARIES = ("jinja2", "markupsafe", "python-docx", "pydantic")


def render_context() -> str:
    """What every rendering draws on besides its document: the dief version, the
    renderers' source and templates, and the labels they print (read now, so a label
    changed at run time counts)."""
    labels = json.dumps(
        [
            sorted((str(k), v) for k, v in DIMENSION_LABELS.items()),
            sorted((str(k), v) for k, v in REGION_NAMES.items()),
            sorted((str(k), str(v)) for k, v in VALUE_LABELS.items()),
        ],
        ensure_ascii=False,
    )
    return fingerprint(str(dief.__version__), _source(), labels)


@cache
def _source() -> str:
    """The code this process renders with: every file of the ``dief`` package (renderers,
    templates, labels, and whatever they import), and the versions of the libraries in
    :data:`_LIBRARIES`. Read once per process (the code a process runs does not change
    under it); about 50 ms. Any change re-renders everything once: safe, and rare."""
    root = Path(dief.__file__).parent
    parts: list[str | bytes] = []
    for path in sorted(root.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            parts += [path.relative_to(root).as_posix(), path.read_bytes()]
    for name in _LIBRARIES:
        try:
            parts.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{name} -")
    return fingerprint(*parts)


class Manifest:
    """Per output file (its path relative to the folder): the fingerprint of the inputs it
    was rendered from and the SHA-256 of its bytes. :meth:`load`, :meth:`current`,
    :meth:`note`, :meth:`save`."""

    def __init__(
        self,
        folder: Path,
        entries: dict[str, tuple[str, str]],
        documents: dict[str, tuple[str, int]] | None = None,
    ) -> None:
        self._folder = folder
        self._entries = entries
        #: per document (its name): the fingerprint of what building it read, and the
        #: number of cells it suppresses
        self._documents = documents if documents is not None else {}
        self._changed = False

    @classmethod
    def load(cls, folder: Path) -> Manifest:
        """The manifest of *folder*; empty when it has none or it cannot be read (then
        every file is rendered)."""
        try:
            data = json.loads((folder / MANIFEST).read_text("utf-8"))
            if data.get("format") != _FORMAT:
                return cls(folder, {})
            entries = {
                str(name): (str(entry["inputs"]), str(entry["sha256"]))
                for name, entry in data["files"].items()
            }
            documents = {
                str(name): (str(entry["inputs"]), int(entry["suppressed"]))
                for name, entry in data.get("documents", {}).items()
            }
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return cls(folder, {})
        return cls(folder, entries, documents)

    def _name(self, path: Path) -> str:
        return path.relative_to(self._folder).as_posix()

    def current(self, path: Path, inputs: str) -> bool:
        """Whether *path* holds what rendering *inputs* wrote there (same inputs recorded,
        and the bytes on disk are the bytes recorded)."""
        entry = self._entries.get(self._name(path))
        if entry is None or entry[0] != inputs:
            return False
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == entry[1]
        except OSError:
            return False

    def intact(self, path: Path) -> bool:
        """Whether *path* holds the bytes the manifest recorded for it."""
        entry = self._entries.get(self._name(path))
        if entry is None:
            return False
        try:
            return hashlib.sha256(path.read_bytes()).hexdigest() == entry[1]
        except OSError:
            return False

    def document(self, name: str, inputs: str) -> int | None:
        """The number of cells document *name* suppresses if it was built from *inputs*
        (the fingerprint of everything building it read), else ``None``."""
        entry = self._documents.get(name)
        return entry[1] if entry is not None and entry[0] == inputs else None

    def note_document(self, name: str, inputs: str, suppressed: int) -> None:
        """Record that document *name*, built from *inputs*, is on disk in every format
        (call it after its files are written)."""
        if self._documents.get(name) != (inputs, suppressed):
            self._documents[name] = (inputs, suppressed)
            self._changed = True

    def forget_document(self, name: str) -> None:
        """Drop what was recorded of document *name* (it is being written again)."""
        if self._documents.pop(name, None) is not None:
            self._changed = True

    def note(self, path: Path, inputs: str, data: str | bytes) -> None:
        """Record that *path* now holds *data*, rendered from *inputs*."""
        raw = data.encode("utf-8") if isinstance(data, str) else data
        entry = (inputs, hashlib.sha256(raw).hexdigest())
        name = self._name(path)
        if self._entries.get(name) != entry:
            self._entries[name] = entry
            self._changed = True

    def save(self) -> None:
        """Write the manifest (atomically) if an entry changed."""
        if not self._changed:
            return
        files = {
            name: {"inputs": inputs, "sha256": sha}
            for name, (inputs, sha) in sorted(self._entries.items())
        }
        documents = {
            name: {"inputs": inputs, "suppressed": suppressed}
            for name, (inputs, suppressed) in sorted(self._documents.items())
        }
        path = self._folder / MANIFEST
        data = {"format": _FORMAT, "files": files, "documents": documents}
        text = json.dumps(data, indent=1) + "\n"
        write_atomic(path, text)
        self._changed = False
