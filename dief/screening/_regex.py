r"""Writing the detectors' regular expressions so that ``re`` searches them fast.

``re`` skips ahead in C only when a pattern starts with a character (or a character
class, or an alternation whose every branch starts with a character) and no flag makes
that character case-insensitive. A pattern that starts with a look-behind, such as
``(?<![^\W_])(?:licence|permit|…)``, is instead tried at every position of the text, and
each try runs the look-behind and then every alternative. The same pattern written to
read its first character first::

    [lp…](?<![^\W_].)(?:(?<=l)icence|(?<=p)ermit|…)

(the look-behind now looks one character further back, and each alternative checks the
character already read) matches exactly the same text at exactly the same places, and is
five to ten times faster on ordinary text. :func:`after_first` writes the alternatives;
:func:`first_characters` the class that reads the first character;
:func:`by_first_character` branches named groups of alternatives on their first character.

A pattern that is tried at every position of a long run of word characters and scans the
run each time (a name before an ``@``) costs the square of the run's length, and Chinese
has no spaces: :func:`finditer_in_runs` tries it once per run.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

__all__ = [
    "after_first",
    "alternatives",
    "by_first_character",
    "finditer_in_runs",
    "first_characters",
]


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of ``pattern`` (``|`` outside groups and classes), with
    an alternative that starts with a non-capturing group spread over its branches:
    ``(?:a|b)c|d`` -> ``["ac", "bc", "d"]`` (same matches, tried in the same order)."""
    out: list[str] = []
    for alt in _split(pattern):
        if alt.startswith("(?:"):
            end = _group_end(alt, 0)
            inner, tail = alt[3:end], alt[end + 1 :]
            if tail[:1] not in {"?", "*", "+", "{"}:  # a quantified group is left as it is
                out.extend(a + tail for a in alternatives(inner))
                continue
        out.append(alt)
    return out


def after_first(pattern: str) -> str:
    """``pattern``'s alternatives as ``(?<=x)rest|…``: each after its first character ``x``,
    which is looked back at (see the module doc). Every alternative must start with a
    plain character (a letter, a digit, ``#`` or ``№``)."""
    out = []
    for alt in alternatives(pattern):
        first = alt[:1]
        if not (first.isalnum() or first in "#№"):
            raise ValueError(f"alternative {alt!r} does not start with a plain character")
        out.append(f"(?<={first}){alt[1:]}")
    return "|".join(out)


def by_first_character(groups: Sequence[tuple[str, str, str]], after: str = "") -> str:
    """One alternation of the named ``groups`` (``(name, pattern, suffix)``: a named group
    of ``pattern``'s alternatives followed by ``suffix``), branched on the first character:
    ``x{after}(?:(?P<name_0>(?:rest|…)suffix)|(?P<other_0>…))|y…``, each branch a plain
    character that the search skips to and that rejects at once; ``after`` (a look-behind
    that looks one character further back) is checked once the first character is read.
    At one position the groups are tried in the order given, and each group's alternatives
    in their order, as in ``(?P<name>(?:pattern)suffix)|…``; ``lastgroup`` is
    ``name_<n>``."""
    firsts: dict[str, dict[str, list[str]]] = {}
    suffixes = {name: suffix for name, _, suffix in groups}
    for name, pattern, _ in groups:
        for alt in alternatives(pattern):
            first = alt[:1]
            if not (first.isalnum() or first in "#№"):
                raise ValueError(f"alternative {alt!r} does not start with a plain character")
            firsts.setdefault(first, {}).setdefault(name, []).append(alt[1:])
    branches = []
    for n, (first, named) in enumerate(firsts.items()):
        inner = "|".join(
            f"(?P<{name}_{n}>(?:{'|'.join(rests)}){suffixes[name]})"
            for name, rests in named.items()
        )
        branches.append(f"{re.escape(first)}{after}(?:{inner})")
    return "|".join(branches)


def finditer_in_runs(  # noqa: C901, PLR0913, PLR0917  one pass over the heuristic's cases in order; splitting it would scatter them
    rx: re.Pattern[str],
    text: str,
    runs: re.Pattern[str],
    start: re.Pattern[str],
    near: re.Pattern[str] | None = None,
    gap: re.Pattern[str] | None = None,
    *,
    monotonic: bool = True,
) -> Iterator[re.Match[str]]:
    """What ``rx.finditer(text)`` finds, tried once per run instead of at every position.

    For a pattern whose every match starts inside a run of ``runs`` (maximal runs, as
    ``runs.finditer`` finds them), at a position where ``start`` (one character) matches,
    and which, when it fails at one position of a run, fails at every later position of
    the same run: a name and then an ``@``, say, where a later start only shortens the
    name. Such a pattern tried by ``re`` at every position of a long run of word characters
    (Chinese has no spaces) costs the square of the run's length.

    ``near``, when given, is something every run that holds a match start holds or is
    followed by: a search for it from the start of a run must find it starting in the
    run, at its end, or after a ``gap`` (fully matching what lies between); other runs
    are skipped. With ``monotonic=False`` (a pattern that can fail at one start of a run
    and match at a later one) every start of a run kept is tried.
    """
    cursor = 0
    hint: re.Match[str] | None = None
    for run in runs.finditer(text):
        pos, end = max(run.start(), cursor), run.end()
        if pos >= end:
            continue
        if near is not None:
            if hint is None or hint.start() < run.start():
                hint = near.search(text, run.start())
                if hint is None:
                    return  # no later run can hold a match
            if hint.start() > end and (gap is None or not gap.fullmatch(text, end, hint.start())):
                continue
        while pos < end:
            first = start.search(text, pos, end)
            if first is None:
                break
            m = rx.match(text, first.start())
            if m is None:
                if monotonic:
                    break  # and so does every later start in this run
                pos = first.start() + 1
                continue
            yield m
            cursor = pos = max(m.end(), first.start() + 1)


def first_characters(pattern: str) -> str:
    """The distinct first characters of ``pattern``'s alternatives, for a class ``[…]``."""
    return "".join(sorted({alt[0] for alt in alternatives(pattern)}))


def _split(pattern: str) -> list[str]:
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]":  # a "]" first in a class is a character
                i += 1
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(pattern[start:i])
            start = i + 1
        i += 1
    parts.append(pattern[start:])
    return parts


def _group_end(pattern: str, start: int) -> int:
    """Index of the ``)`` that closes the group opened at ``pattern[start]``."""
    depth = 0
    i = start
    in_class = False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unbalanced group in {pattern!r}")
