"""Finding what runs Apache Kafka here: ``java`` and the broker's jars (DESIGN §12).

The jars are those of ``deploy/kafka/pom.xml``, resolved by ``scripts/install`` with Maven
into its local repository; the class path Maven printed is kept in the user's cache, under
a name derived from the pom's SHA-256, so a changed pom is never served a stale class path.
Nothing here downloads: a missing piece raises :class:`KafkaUnavailableError` naming it and
the fix.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess  # noqa: S404  runs the broker's own programs with a fixed argv, never a shell
from dataclasses import dataclass
from pathlib import Path

from dief.exceptions import KafkaUnavailableError

__all__ = [
    "KAFKA_POM",
    "KafkaRuntime",
    "classpath_file",
    "find_runtime",
    "resolve_classpath",
]

#: The pom that pins the Kafka release (kept in the repository).
KAFKA_POM = Path(__file__).resolve().parents[2] / "deploy" / "kafka" / "pom.xml"
#: The environment variable naming the ``java`` to use (read by dief.settings).
JAVA_ENV = "DIEF_KAFKA_JAVA"
_FIX = "Fix: run ./scripts/install (it resolves deploy/kafka/pom.xml with Maven)."


@dataclass(frozen=True, slots=True)
class KafkaRuntime:
    """A ``java`` executable and the class path of the pinned Kafka release."""

    java: Path
    classpath: str
    version: str


def _default_cache_dir() -> Path:
    return Path.home() / ".cache" / "dief" / "kafka"


def classpath_file(pom: Path = KAFKA_POM, cache_dir: Path | None = None) -> Path:
    """Where ``scripts/install`` writes the class path of *pom* (the same rule as there:
    ``classpath-<first 12 hex digits of SHA-256(pom)>.txt`` in *cache_dir*, which
    :class:`dief.settings.KafkaRuntimeSettings` gives: ``$XDG_CACHE_HOME/dief/kafka``)."""
    digest = hashlib.sha256(pom.read_bytes()).hexdigest()[:12]
    return (cache_dir or _default_cache_dir()) / f"classpath-{digest}.txt"


def _find_java(given: Path | None) -> Path:
    tried: list[str] = []
    candidates: list[str] = []
    if given is not None:
        candidates.append(str(given))
    found = shutil.which("java")
    if found and given is None:
        candidates.append(found)
    for candidate in candidates:
        path = Path(candidate)
        tried.append(str(path))
        if path.is_file() and os.access(path, os.X_OK):
            return path
    looked = ", ".join(tried) if tried else "PATH"
    raise KafkaUnavailableError(
        f"no Java runtime for Apache Kafka (looked at {looked}). Fix: install Java 17 or "
        f"newer (Debian: apt-get install default-jre-headless), or set {JAVA_ENV} (or "
        "JAVA_HOME)."
    )


def _kafka_version(pom: Path) -> str:
    text = pom.read_text(encoding="utf-8")
    start = text.find("<kafka.version>")
    end = text.find("</kafka.version>")
    if start < 0 or end < start:
        raise KafkaUnavailableError(f"{pom} names no <kafka.version>")
    return text[start + len("<kafka.version>") : end].strip()


def find_runtime(
    pom: Path = KAFKA_POM, *, java: Path | None = None, cache_dir: Path | None = None
) -> KafkaRuntime:
    """*java* (None: the one on PATH) and the class path of *pom* cached in *cache_dir*
    (None: ``~/.cache/dief/kafka``), every jar checked present. Both come from
    :class:`dief.settings.KafkaRuntimeSettings` at the edge.

    :raises KafkaUnavailableError: no pom, no Java, no cached class path, or a jar missing;
        the message says which and how to fix it.
    """
    if not pom.is_file():
        raise KafkaUnavailableError(
            f"the Kafka pom {pom} is missing: the Apache Kafka cluster runs from a checkout "
            "of the repository."
        )
    found_java = _find_java(java)
    cached = classpath_file(pom, cache_dir)
    if not cached.is_file():
        raise KafkaUnavailableError(
            f"the Kafka {_kafka_version(pom)} class path is not cached ({cached}). {_FIX}"
        )
    classpath = cached.read_text(encoding="utf-8").strip()
    jars = [j for j in classpath.split(os.pathsep) if j]
    missing = [j for j in jars if not Path(j).is_file()]
    if not jars or missing:
        what = f"{len(missing)} of its jars are missing, e.g. {missing[0]}" if missing else "empty"
        raise KafkaUnavailableError(f"the cached Kafka class path {cached} is {what}. {_FIX}")
    return KafkaRuntime(java=found_java, classpath=classpath, version=_kafka_version(pom))


def resolve_classpath(
    pom: Path = KAFKA_POM, *, offline: bool = False, cache_dir: Path | None = None
) -> Path:
    """Resolve *pom* with Maven (``mvn dependency:build-classpath``) into the cache file
    :func:`classpath_file` names; what ``scripts/install`` does, for ``dief kafka``.

    :raises KafkaUnavailableError: Maven is missing or failed (its last output quoted).
    """
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaUnavailableError(
            "Maven (mvn) is not on PATH to resolve Apache Kafka's jars. Fix: install it "
            "(Debian: apt-get install maven) and run ./scripts/install."
        )
    target = classpath_file(pom, cache_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".part")
    argv = [mvn, "-q", "-B", *(["-o"] if offline else []), "-f", str(pom)]
    argv += ["dependency:build-classpath", f"-Dmdep.outputFile={partial}"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0 or not partial.is_file():
        tail = (done.stdout + done.stderr).strip().splitlines()[-5:]
        raise KafkaUnavailableError(
            f"Maven could not resolve {pom} (exit {done.returncode}): " + " | ".join(tail)
        )
    partial.replace(target)
    return target
