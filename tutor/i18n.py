"""The words of the app and the CLI in the learner's language: gettext, domain ``tutor``.

Every string a learner reads goes through :func:`_` (or :func:`ngettext` where a count
changes the words); :func:`N_` marks a string kept in a constant and translated where it
is shown. The catalogue of a language is ``tutor/locale/<folder>/LC_MESSAGES/tutor.po``,
with its compiled ``tutor.mo`` beside it stamped with the digest of the ``.po`` text it
came from, as the lessons' catalogues are (``tutor.lessons.translate``): the ``.mo`` is
read while it matches, else the ``.po`` through polib (correct, slower).
``python -m tutor.i18n`` recompiles it.

The language is the one the lessons use: ``--lang`` (:func:`choose_language`), else
``TUTOR_LANG``, else the locale. It is looked up at each call, so a string translated at
import time would miss a later ``--lang``: constants are marked with :func:`N_` and
translated where they are shown. Machine-readable output (JSON, JUnit, gradebooks) never
goes through here.
"""

from __future__ import annotations

import gettext
import hashlib
import os
import re
from functools import cache
from pathlib import Path

from tutor.errors import UsageError

DOMAIN = "tutor"
ENGLISH = "en"
#: The languages a course can be read in, by their ``--lang`` tag; each but English has a
#: catalogue folder (``lessons/locale/<folder>/``, ``tutor/locale/<folder>/``).
LANGUAGES = {ENGLISH: "", "zh-CN": "zh_CN"}
# What a tag may also be written as (``--lang``, ``TUTOR_LANG``): any case, ``_`` for ``-``.
_ALIASES = {"en": ENGLISH, "en-us": ENGLISH, "en-gb": ENGLISH, "c": ENGLISH, "posix": ENGLISH,
            "zh": "zh-CN", "zh-cn": "zh-CN", "zh-hans": "zh-CN", "zh-hans-cn": "zh-CN", "zh-sg": "zh-CN"}
# A locale (``zh_CN.UTF-8``, ``zh_Hans_CN``) reads Simplified Chinese when it starts so.
_CHINESE_LOCALE_RE = re.compile(r"^zh(?:[_-](?:cn|hans|sg))?(?:[_.@-]|$)", re.IGNORECASE)

LOCALE_DIR = Path(__file__).parent / "locale"
# The compiled catalogue says which text of the ``.po`` it was compiled from.
SOURCE_KEY = "X-Tutor-Source-Sha256"


# --- the language ----------------------------------------------------------------------


def language_tag(text: str) -> str | None:
    """The known tag ``text`` names (``zh_cn`` and ``zh-Hans`` are ``zh-CN``), else ``None``."""
    return _ALIASES.get(text.strip().lower().replace("_", "-"))


_chosen: str | None = None


def choose_language(tag: str | None) -> None:
    """The language of this process's lessons and words, as ``--lang`` said; ``None``
    leaves it to the environment (:func:`current_language`)."""
    global _chosen
    _chosen = tag


def current_language() -> str:
    """``--lang`` (:func:`choose_language`), else ``TUTOR_LANG``, else the locale
    (``LC_ALL``, ``LC_MESSAGES``, ``LANG``, the first one set), else English. An unknown
    ``TUTOR_LANG`` is a usage error; an unknown locale is simply English."""
    if _chosen is not None:
        return _chosen
    setting = os.environ.get("TUTOR_LANG", "").strip()
    if setting:
        tag = language_tag(setting)
        if tag is None:
            raise UsageError(f"TUTOR_LANG={setting}: unknown language (known: {', '.join(LANGUAGES)})")
        return tag
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value:
            return "zh-CN" if _CHINESE_LOCALE_RE.match(value) else ENGLISH
    return ENGLISH


# --- the catalogue ---------------------------------------------------------------------


def catalogue_path(lang: str) -> Path:
    """The ``.po`` of the app's and the CLI's words in ``lang``."""
    return LOCALE_DIR / LANGUAGES[lang] / "LC_MESSAGES" / f"{DOMAIN}.po"


def _digest(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def compile_catalogue(lang: str) -> Path:
    """Write the ``.mo`` of ``lang``'s catalogue from its ``.po``; returns its path."""
    import polib

    po_path = catalogue_path(lang)
    source = po_path.read_bytes()
    po = polib.pofile(source.decode("utf-8"))
    mo = polib.POFile()
    mo.metadata = {**po.metadata, SOURCE_KEY: _digest(source)}
    translated = (e for e in po if e.msgstr or (e.msgstr_plural and all(e.msgstr_plural.values())))
    mo.extend(e for e in translated if not e.obsolete and "fuzzy" not in e.flags)
    mo_path = po_path.with_suffix(".mo")
    mo.save_as_mofile(str(mo_path))
    return mo_path


class _PoTranslations(gettext.NullTranslations):
    """A catalogue read from its ``.po`` (its ``.mo`` is missing or stale)."""

    def __init__(self, source: bytes) -> None:
        super().__init__()
        import polib

        self._plain: dict[str, str] = {}
        self._plural: dict[str, list[str]] = {}
        for entry in polib.pofile(source.decode("utf-8")):
            if entry.obsolete or "fuzzy" in entry.flags:
                continue
            if entry.msgid_plural:
                forms = [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]
                if all(forms):
                    self._plural[entry.msgid] = forms
            elif entry.msgstr:
                self._plain[entry.msgid] = entry.msgstr

    def gettext(self, message: str) -> str:
        return self._plain.get(message, message)

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        forms = self._plural.get(msgid1)
        if forms is None:
            return msgid1 if n == 1 else msgid2
        return forms[0]  # Chinese has one form


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The catalogue of ``lang`` (English: none, every string is its own translation)."""
    if lang == ENGLISH or lang not in LANGUAGES:
        return gettext.NullTranslations()
    path = catalogue_path(lang)
    try:
        source = path.read_bytes()
    except OSError:
        return gettext.NullTranslations()
    try:
        with path.with_suffix(".mo").open("rb") as file:
            compiled = gettext.GNUTranslations(file)
        if compiled.info().get(SOURCE_KEY.lower()) == _digest(source):
            return compiled
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return _PoTranslations(source)


def compiled_is_current(lang: str) -> bool:
    """Whether ``lang``'s ``.mo`` was compiled from its ``.po`` as it is now."""
    try:
        with catalogue_path(lang).with_suffix(".mo").open("rb") as file:
            compiled = gettext.GNUTranslations(file)
    except (OSError, ValueError, UnicodeDecodeError):
        return False
    return compiled.info().get(SOURCE_KEY.lower()) == _digest(catalogue_path(lang).read_bytes())


# --- marking ---------------------------------------------------------------------------


def _language() -> str:
    # An unknown TUTOR_LANG is reported where the course loads; words never fail on it.
    try:
        return current_language()
    except UsageError:
        return ENGLISH


def _(message: str) -> str:
    """``message`` in the current language."""
    if not message:  # gettext's "" is the catalogue's header
        return message
    return translations(_language()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current language."""
    return translations(_language()).ngettext(singular, plural, n)


def N_(message: str) -> str:  # noqa: N802  # gettext's own name for the marker
    """Marks ``message`` for the catalogue without translating it (a constant that is
    translated with :func:`_` where it is shown)."""
    return message


def is_english() -> bool:
    """Whether words are shown in English (so nothing needs translating)."""
    return _language() == ENGLISH


if __name__ == "__main__":
    for tag in LANGUAGES:
        if tag != ENGLISH:
            print(compile_catalogue(tag))
