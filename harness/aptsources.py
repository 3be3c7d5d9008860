"""apt's package sources, read so the offline builder uses the Debian mirror the machine does.

Both formats apt reads are parsed: one-line ``deb [options] URI suite components`` in
``sources.list`` and ``*.list``, and deb822 paragraphs (``Types:``, ``URIs:``, ``Suites:``,
``Components:``) in ``*.sources``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from harness.errors import InvalidInput

__all__ = [
    "APT_ETC",
    "MIRROR_ENV",
    "AptSource",
    "debian_mirror",
    "parse_deb822",
    "parse_one_line",
    "read_sources",
]

APT_ETC = Path("/etc/apt")
MIRROR_ENV = "HARNESS_DEBIAN_MIRROR"
"""The environment variable that names a Debian mirror instead of apt's sources."""

# debootstrap fetches over these; apt's other methods (mirror+file:, cdrom:, tor+http:) it cannot.
_DEBOOTSTRAP_SCHEMES = ("http://", "https://", "file:/")
# Suites served by the same archive as the release itself; -security lives elsewhere.
_SAME_ARCHIVE_SUFFIXES = ("-updates", "-backports", "-proposed-updates")
_OPTIONS = re.compile(r"^\[[^\]]*\]\s*")


@dataclass(frozen=True)
class AptSource:
    """One URI of one apt source entry, with the suites and components it serves."""

    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]
    origin: str
    """Where it was read: file and line (one-line) or paragraph (deb822)."""


def parse_one_line(text: str, origin: str) -> list[AptSource]:
    """The ``deb`` entries of a sources.list-format file (``deb-src`` and comments skipped)."""
    sources: list[AptSource] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        words = raw.split("#", 1)[0].split(None, 1)
        if len(words) < 2 or words[0] != "deb":
            continue
        fields = _OPTIONS.sub("", words[1]).split()
        if len(fields) >= 2:
            uri, suite, *components = fields
            sources.append(AptSource(uri, (suite,), tuple(components), f"{origin}:{number}"))
    return sources


def parse_deb822(text: str, origin: str) -> list[AptSource]:
    """The ``deb`` entries of a deb822 ``.sources`` file (``Enabled: no`` skipped)."""
    sources: list[AptSource] = []
    for number, stanza in enumerate(_stanzas(text), start=1):
        if stanza.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in stanza.get("types", "").split():
            continue
        suites = tuple(stanza.get("suites", "").split())
        components = tuple(stanza.get("components", "").split())
        for uri in stanza.get("uris", "").split():
            sources.append(AptSource(uri, suites, components, f"{origin} paragraph {number}"))
    return sources


def _stanzas(text: str) -> list[dict[str, str]]:
    """Paragraphs as lower-cased field names to values; continuation lines join the value."""
    stanzas: list[dict[str, str]] = [{}]
    last = ""
    for raw in text.splitlines():
        if raw.startswith("#"):
            continue
        if not raw.strip():
            if stanzas[-1]:
                stanzas.append({})
            last = ""
            continue
        if raw[0].isspace():
            if last:  # a multi-line value such as an inline Signed-By key
                stanzas[-1][last] += "\n" + raw.strip()
            continue
        name, _, value = raw.partition(":")
        last = name.strip().lower()
        stanzas[-1][last] = value.strip()
    return [s for s in stanzas if s]


def read_sources(etc: Path = APT_ETC) -> tuple[list[AptSource], list[Path]]:
    """Every ``deb`` source apt would read under ``etc``, in apt's order, and the files read."""
    files = [etc / "sources.list"]
    parts = etc / "sources.list.d"
    if parts.is_dir():
        files += sorted(p for p in parts.iterdir() if p.suffix in (".list", ".sources"))
    sources: list[AptSource] = []
    read: list[Path] = []
    for path in files:
        if not path.is_file():
            continue
        read.append(path)
        parse = parse_deb822 if path.suffix == ".sources" else parse_one_line
        sources += parse(path.read_text(errors="replace"), str(path))
    return sources, read


def debian_mirror(suite: str, etc: Path = APT_ETC) -> str:
    """The URI of the first apt source serving Debian's ``suite`` with ``main``.

    An entry for the suite itself wins over one for its -updates or -backports (same
    archive); -security suites are never chosen, since that archive lacks the release.
    """
    sources, read = read_sources(etc)
    usable = [
        s for s in sources if "main" in s.components and s.uri.startswith(_DEBOOTSTRAP_SCHEMES)
    ]
    for wanted in ((suite,), tuple(suite + tail for tail in _SAME_ARCHIVE_SUFFIXES)):
        for source in usable:
            if any(s in wanted for s in source.suites):
                return source.uri.rstrip("/")
    raise InvalidInput(
        f"apt sources {_looked_at(etc)}",
        "URIs",
        f"a 'deb' source of Debian {suite} with component main (or set {MIRROR_ENV} "
        "to a Debian mirror URL, e.g. in the environment of `make up`)",
        _summary(sources, read),
    )


def _looked_at(etc: Path) -> str:
    return f"({etc / 'sources.list'}, {etc / 'sources.list.d'}/*.list and *.sources)"


def _summary(sources: Iterable[AptSource], read: list[Path]) -> str:
    if not read:
        return "no sources files"
    entries = [f"{s.uri} {' '.join(s.suites)} [{' '.join(s.components)}]" for s in sources]
    return "; ".join(entries) if entries else "no 'deb' entries"
