"""Normalise song titles and artist names so that two spellings of one recording compare equal,
and two recordings of one song do not.

A title is split into its **base** (the song), its **versions** (words that make a different
recording: ``Skrillex Remix``, ``Live at Wembley``, ``Acoustic``, ``Instrumental``, ``Slowed`` …,
including the remixer's name) and its **editions** (words that name an edition of the same
recording and may be ignored: ``2011 Remaster``, ``Radio Edit``, ``Single Version``, ``Mono``,
``Explicit``, ``Original Mix``, ``- From "Film"``, ``Deluxe``, ``Bonus Track``). The rule is the
same whether the words sit in brackets or after a dash. ``feat.``/``with`` credits in a title
are moved to the artist list, so they meet an export that credits them as artists.

Folding goes beyond Unicode decomposition: :mod:`anyascii` (ISC licence) transliterates ø, æ,
ß, ł, đ, œ, curly quotes and non-Latin scripts, so ``Røyksopp`` meets ``Royksopp``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from anyascii import anyascii

# -- editions: the same recording, ignorable --------------------------------------------------
_EDITION_PATTERNS = (
    r"(?:\d{4} )?(?:digital(?:ly)? )?re ?master(?:ed)?(?: version| edition)?(?: \d{4})?(?: version)?",
    r"(?:radio|single|album|clean|explicit|short|uncensored|censored|lp|7|7 inch) (?:edit|version|mix)",
    r"(?:album|single|original|lp|studio|mono|stereo|explicit|clean|main) version",
    r"original(?: mix)?",
    r"(?:mono|stereo)(?: mix)?",
    r"explicit|clean|dirty",
    r"(?:\d+(?:st|nd|rd|th) )?(?:anniversary |super |expanded |special |collectors? )?(?:deluxe )?"
    r"(?:edition|version)",
    r"deluxe",
    r"bonus(?: track)?",
    r"edit",
    r"\d{4}",
    r"from .*",
    r".*(?:soundtrack|motion picture|original score)( version)?",
    r"single",
    r"hd|hq|official (?:audio|video)|lyrics?|audio",
)
_EDITION = re.compile(r"^(?:" + "|".join(f"(?:{p})" for p in _EDITION_PATTERNS) + r")$")

# -- versions: a different recording, kind → words that say it ----------------------------------
VERSION_KINDS: dict[str, tuple[str, ...]] = {
    "remix": (
        "remix",
        "rmx",
        "re mix",
        "remixed",
        "rework",
        "reworked",
        "re edit",
        "reedit",
        "edit",
        "mix",
        "bootleg",
        "flip",
        "refix",
        "mashup",
        "mash up",
        "remake",
    ),
    "live": ("live", "en vivo", "ao vivo", "en directo", "live version", "concert"),
    "acoustic": ("acoustic", "unplugged", "stripped", "acustico", "acustica"),
    "instrumental": ("instrumental", "karaoke", "backing track"),
    "acappella": ("a cappella", "acappella", "acapella", "a capella", "vocals only"),
    "demo": ("demo", "early take", "outtake", "alternate take", "take"),
    "slowed": ("slowed", "slowed reverb", "slowed and reverb", "reverb"),
    "spedup": ("sped up", "speed up", "nightcore", "spedup"),
    "vip": ("vip",),
    "dub": ("dub",),
    "extended": ("extended", "extended version", "club version", "12 version"),
    "reprise": ("reprise",),
    "cover": ("cover",),
    "orchestral": ("orchestral", "symphonic", "piano version", "piano"),
    "version": ("version", "s version"),
}
"""The kinds two titles must share to be one recording; the other words of the segment name who (the remixer)."""

_KIND_WORDS = sorted(((w, k) for k, ws in VERSION_KINDS.items() for w in ws), key=lambda p: -len(p[0]))
_KIND = re.compile(r"\b(" + "|".join(re.escape(w) for w, _ in _KIND_WORDS) + r")\b")
_KIND_OF = dict(_KIND_WORDS)
_GENERIC = [k for k in VERSION_KINDS if k not in ("remix", "version")] + ["remix", "version"]
"""A specific kind wins over the generic ones: ``Extended Mix`` is extended, ``Acoustic Version`` acoustic."""
_FILLER = re.compile(r"\b(?:by|the|at|in|from|on|version|mix|remix|edit|s|a)\b")

_FEAT_WORD = r"(?:feat\.?|ft\.?|featuring|with|w/)"
_FEAT_INLINE = re.compile(r"\s(?:feat\.?|ft\.|featuring)\s+(.*)$", re.IGNORECASE)
_FEAT_SEGMENT = re.compile(r"^\s*" + _FEAT_WORD + r"\s+(.+)$", re.IGNORECASE)
_SEGMENT = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]|\{([^{}]*)\}")
_DASH = re.compile(r"\s+[-–—]\s+")
_ARTIST_SPLIT = re.compile(
    r"\s*(?:,|;|/|&|\+|\band\b|\bx\b|\bfeat\.?|\bft\.?|\bfeaturing\b|\bwith\b|\bvs\.?|\bversus\b|\bmeets\b)\s*"
)
EDITION_WORDS = (
    "remaster",
    "radio edit",
    "single version",
    "album version",
    "mono",
    "stereo",
    "explicit",
    "clean",
    "original mix",
    "deluxe",
    "bonus track",
    "from ...",
)
"""Documentation summary of what :data:`_EDITION` ignores (the patterns are the rule)."""


_TRANSLITERATES = anyascii("øæß") == "oaess"
"""anyascii reads its tables as package data; a build that forgot them would silently drop letters, so
folding falls back to plain accent stripping (and says so in the log) rather than lose ``ø``."""
if not _TRANSLITERATES:
    logging.getLogger(__name__).warning("anyascii tables missing: names fold by accent stripping only")


def _strip_accents(text: str) -> str:
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


_NEEDS_PARSING = re.compile(r"[(\[{\-–—]|\b(?:feat|ft|featuring)\b", re.IGNORECASE)
_APOSTROPHES = re.compile(r"['`´]")
_PUNCTUATION = re.compile(r"[^\w\s]|_")


@dataclass(frozen=True, order=True)
class Version:
    """One version word of a title: ``kind`` (``remix``, ``live`` …) and ``who`` (remixer/venue, folded)."""

    kind: str
    who: str = ""

    def __str__(self) -> str:
        return f"{self.kind} ({self.who})" if self.who else self.kind


@dataclass(frozen=True)
class TitleParts:
    base: str
    versions: tuple[Version, ...] = ()
    featured: frozenset[str] = frozenset()
    editions: tuple[str, ...] = ()

    def key(self) -> str:
        """One string for exact comparison: the base plus every version."""
        if not self.versions:
            return self.base
        return self.base + " [" + "; ".join(str(v) for v in self.versions) + "]"

    @property
    def length_edited(self) -> bool:
        """An edition word that changes the length (radio edit, single version …): duration is weak evidence."""
        return any(re.search(r"edit|single|radio|short|version", e) for e in self.editions)


def fold(text: str) -> str:
    """Lower case ASCII (transliterated), ``&``/``+`` spelled ``and``, punctuation as spaces, spaces collapsed."""
    text = unicodedata.normalize("NFKC", text or "")
    if not text.isascii():
        text = anyascii(text) if _TRANSLITERATES else _strip_accents(text)
    text = text.lower().replace("&", " and ").replace("+", " and ")
    text = _APOSTROPHES.sub("", text)  # "don't" == "dont"
    text = _PUNCTUATION.sub(" ", text)
    return " ".join(text.split())


@lru_cache(maxsize=65536)
def parse_title(title: str) -> TitleParts:
    """Split a title into base, versions, featured artists and editions (see the module docstring)."""
    text = unicodedata.normalize("NFKC", title or "").strip()
    if not _NEEDS_PARSING.search(text):  # most titles: nothing to split off (fast path for big exports)
        base = fold(text)
        if "remaster" not in base:
            return TitleParts(base or fold(title))
    versions: list[Version] = []
    featured: set[str] = set()
    editions: list[str] = []
    kept: list[str] = []

    def classify(segment: str) -> bool:
        """Record a bracket/dash segment; False when it is ordinary title text."""
        feat = _FEAT_SEGMENT.match(segment)
        if feat:
            inner, rest = _split_feat_tail(feat.group(1))
            featured.update(artist_names(inner))
            if rest and not classify(rest):
                kept.append(rest)
            return True
        folded = fold(segment)
        if not folded:
            return True
        version = _version(folded)
        if version is not None:
            versions.append(version)
            return True
        if _EDITION.match(folded) or _all_editions(segment):
            editions.append(folded)
            return True
        return False

    previous = None
    while previous != text:  # innermost brackets first
        previous = text

        def bracket(match: re.Match[str]) -> str:
            inner = next(g for g in match.groups() if g is not None)
            return " " if classify(inner) else f" {inner} "

        text = _SEGMENT.sub(bracket, text)
    parts = _DASH.split(text)
    while len(parts) > 1 and classify(parts[-1]):
        parts.pop()
    text = " - ".join(parts)
    inline = _FEAT_INLINE.search(text)
    if inline:
        featured.update(artist_names(inline.group(1)))
        text = text[: inline.start()]
    base = fold(" ".join([text, *kept]))
    trailing = re.search(r"\s(?:\d{4}\s)?(?:remastered|remaster)(?:\s\d{4})?$", base)
    if trailing and trailing.start() > 0:
        editions.append(base[trailing.start() + 1 :])
        base = base[: trailing.start()]
    if not base:  # a song called "Remastered" or "Live" stays itself
        base = fold(title)
        versions.clear()
    return TitleParts(base, tuple(sorted(set(versions))), frozenset(featured), tuple(editions))


def _split_feat_tail(text: str) -> tuple[str, str]:
    """``"B) - Remix"`` style leftovers: a feat. credit ends at a dash."""
    parts = _DASH.split(text, maxsplit=1)
    return (parts[0], parts[1]) if len(parts) == 2 else (text, "")


def _version(folded: str) -> Version | None:
    """The version a segment names, with the edition words removed first (``2011 Remaster`` is not one)."""
    if _EDITION.match(folded):
        return None
    words = folded
    kinds = [_KIND_OF[m.group(1)] for m in _KIND.finditer(words)]
    found = min(kinds, key=_GENERIC.index, default=None) if kinds else None
    if found is None:
        return None
    who = _KIND.sub(" ", words)
    who = _strip_editions(who)
    who = _FILLER.sub(" ", who)
    who = re.sub(r"\b\d{4}\b", " ", who)
    who = re.sub(r"\s+", " ", who).strip()
    if found == "version" and not who:
        return None  # "Version" alone says nothing
    return Version(found, who)


def _strip_editions(text: str) -> str:
    for phrase in ("radio", "remastered", "remaster", "explicit", "clean", "original", "extended"):
        text = re.sub(rf"\b{phrase}\b", " ", text)
    return text


def _all_editions(segment: str) -> bool:
    """``"2011 Remaster / Mono"``, ``"Radio Edit, Explicit"``: every ``/`` ``,`` ``&`` ``;`` part is an edition."""
    pieces = [fold(p) for p in re.split(r"[/,;&]|\s[-–—]\s", segment) if fold(p)]
    return len(pieces) > 1 and all(_EDITION.match(p) for p in pieces)


def normalise_title(title: str) -> str:
    """The comparable form of a title: base plus versions, editions and ``feat.`` credits dropped."""
    return parse_title(title).key()


def with_mix(title: str, mix: str) -> str:
    """A title with a separate mix field (rekordbox ``Mix``, Beatport): ``Levels`` + ``Skrillex Remix``."""
    if not mix or fold(mix) in fold(title):
        return title
    return f"{title} ({mix})"


@lru_cache(maxsize=65536)
def normalise_artist(artist: str) -> str:
    """The whole credit, folded: ``Simon & Garfunkel`` == ``Simon and Garfunkel``."""
    return fold(artist)


@lru_cache(maxsize=65536)
def artist_names(artist: str) -> frozenset[str]:
    """Each credited artist, folded, leading "the" dropped: ``A feat. B``, ``A, B`` and ``A x B`` share ``a``."""
    text = unicodedata.normalize("NFKC", artist or "")
    text = _SEGMENT.sub(lambda m: " , " + next(g for g in m.groups() if g is not None) + " ", text)
    parts = (re.sub(r"^the\s", "", fold(p)) for p in _ARTIST_SPLIT.split(anyascii(text).lower()))
    return frozenset(p for p in parts if p)


def artists_agree(left: str, right: str) -> bool:
    """True when the two credits name at least one artist in common (or both are the same string)."""
    if normalise_artist(left) == normalise_artist(right):
        return True
    return bool(artist_names(left) & artist_names(right))


def split_stem(stem: str) -> tuple[str, str]:
    """``"Artist - Title"`` → (artist, title); a stem without the separator is all title.

    Only used to match songs that carry no tags; it never feeds an analysis answer.
    """
    stem = re.sub(r"^\d{1,3}\.\s+(?=\S)", "", stem.strip())  # "01. Artist - Title"
    parts = re.split(r"\s+[-–—]\s+", stem, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        artist, title = parts
        if re.fullmatch(r"\d{1,3}", artist.strip()):  # "01 - Title": a track number, not an artist
            return split_stem(title)
        return artist.strip(), title.strip()
    return "", re.sub(r"^\d{1,3}[.\s_-]+", "", stem).strip() or stem
