"""Lessons in other languages: the words come from a gettext catalogue per lesson, the rest
from the English lesson.

A translated lesson is the English :class:`Lesson` with its text units replaced: the title,
the summary, the headings, paragraphs, list items and table cells of its prose and its
exercise prompts, the hints that are prose (the last rung, the answer's code, is not) and
the ``# ...`` comments of the code a learner reads (snippets, starters, fences inside a
prompt). Code, outputs, checks, solutions and wrong answers are never in a catalogue, so a
translation can differ from the English in nothing but words.

The catalogue of ``lessons/NN-name.md`` in language ``zh-CN`` is
``lessons/locale/zh_CN/NN-name.po``: each entry's ``msgid`` is the English text (a
paragraph's lines joined by spaces, so rewrapping the English leaves the translation
current), its occurrence the English file and line. :func:`update_catalogue` brings a
catalogue up to date with its lesson; :func:`catalogue_problems` lists what is missing,
stale (its English changed) or breaks the Markdown.

Polib is imported only when a catalogue is read: an English course never pays for it.
"""

from __future__ import annotations

import difflib
import gettext
import hashlib
import io
import re
import tokenize
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from markdown_it import MarkdownIt

from tutor.errors import UsageError

# The lessons' language is the app's: chosen once, in tutor.i18n (re-exported here).
from tutor.i18n import ENGLISH, LANGUAGES, choose_language, current_language, language_tag  # noqa: F401
from tutor.lessons.checks_fence import find_key
from tutor.lessons.model import Block, Exercise, Lesson, Prose, Snippet

if TYPE_CHECKING:
    import polib

# The context of a code comment's entry: a comment is plain text, never Markdown, so it is
# kept apart from a paragraph that happens to read the same.
COMMENT_CONTEXT = "code comment"

_markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
# The block structure is all a unit needs (an inline token's content is its raw text);
# inline parsing would double the cost of loading a translated course.
_markdown.core.ruler.disable(["inline", "text_join"])


def catalogue_path(lesson_path: Path, lang: str) -> Path:
    """Where the ``lang`` catalogue of the lesson file ``lesson_path`` lives."""
    return lesson_path.parent / "locale" / LANGUAGES[lang] / f"{lesson_path.stem}.po"


# --- text units ------------------------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """One piece of a lesson a translator translates."""

    msgid: str
    line: int  # 1-based line in the English lesson file
    kind: str  # what it is, for the translator: "title", "paragraph", "hint 1 of 'describe'"...
    context: str | None = None


Translate = Callable[[Unit], "str | None"]
"""Given a unit, its translation, or ``None`` to keep the English."""


def _join(text: str) -> str:
    """A block's text as one line: rewrapping the English must not change its msgid."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def _has_words(text: str) -> bool:
    """Whether ``text`` has anything to translate: a letter outside its code spans."""
    return any(ch.isalpha() for ch in _CODE_SPAN_RE.sub("", text))


def _locate(lines: list[str], file_lines: list[str], start: int) -> list[int]:
    """The 1-based file line of each line of ``lines``, a text copied line by line out of
    the file from 1-based line ``start`` on (with fences or other lines left out between).
    A line not found keeps its predecessor's line plus one."""
    found: list[int] = []
    at = start - 1
    for line in lines:
        hit = next((i for i in range(at, len(file_lines)) if file_lines[i] == line), None)
        if hit is None:
            found.append((found[-1] + 1) if found else start)
            continue
        found.append(hit + 1)
        at = hit + 1
    return found


def _rewrite_code(code: str, first_line: int, where: str, translate: Translate) -> str:
    """``code`` with its comments translated; ``first_line`` is the file line of its first
    line. Only the text after ``#`` changes, so the code itself is the English."""
    if "#" not in code:
        return code
    try:
        tokens = [t for t in tokenize.generate_tokens(io.StringIO(code).readline) if t.type == tokenize.COMMENT]
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return code
    lines = code.split("\n")
    edits = []
    for token in tokens:
        text = token.string[1:].strip()
        if not _has_words(text) or token.string.startswith("#!") or text.startswith(("type:", "noqa", "fmt:")):
            continue  # a pragma is for tools, not for the learner
        row, col = token.start
        new = translate(Unit(text, first_line + row - 1, f"comment in {where}", COMMENT_CONTEXT))
        if new:
            edits.append((row - 1, col, token.end[1], new))
    for row, col, end, new in reversed(edits):
        lines[row] = lines[row][:col] + "# " + new + lines[row][end:]
    return "\n".join(lines)


def _rewrite_markdown(text: str, file_lines: list[str], start: int, where: str, translate: Translate) -> str:
    """Markdown ``text`` with its text units translated. ``text`` was copied out of the
    lesson file from 1-based line ``start`` on; ``where`` says where it sits for the
    translator ("prose", "the prompt of 'describe'")."""
    lines = text.split("\n")
    at = _locate(lines, file_lines, start)
    tokens = _markdown.parse(text)
    # (first line, end line, new lines), applied bottom-up so the maps stay right.
    edits: list[tuple[int, int, list[str]]] = []
    rows: dict[int, list[str]] = {}
    changed_rows: set[int] = set()
    for i, token in enumerate(tokens):
        if token.type == "fence" and token.map and token.info.split()[:1] == ["python"]:
            first, end = token.map
            body = "\n".join(lines[first + 1 : end - 1])
            new_body = _rewrite_code(body, at[first + 1] if first + 1 < len(at) else at[first] + 1, f"the code in {where}", translate)
            if new_body != body:
                edits.append((first + 1, end - 1, new_body.split("\n")))
            continue
        if token.type != "inline" or token.map is None:
            continue
        parent = tokens[i - 1]
        first, end = token.map
        msgid = _join(token.content)
        if parent.type in ("th_open", "td_open"):
            kind = "table cell"
        elif parent.type == "heading_open":
            kind = "heading"
        else:
            kind = "list item" if i >= 2 and tokens[i - 2].type == "list_item_open" else "paragraph"
        new = translate(Unit(msgid, at[first], f"{kind} in {where}")) if _has_words(msgid) else None
        if parent.type in ("th_open", "td_open"):
            rows.setdefault(first, []).append(new or token.content.strip())
            if new:
                changed_rows.add(first)
            continue
        if not new:
            continue
        source = lines[first]
        if parent.type == "heading_open":
            prefix = source[: len(source) - len(source.lstrip())] + parent.markup + " "
        else:
            head = token.content.split("\n", 1)[0].strip()
            cut = source.find(head)
            prefix = source[:cut] if cut >= 0 else source[: len(source) - len(source.lstrip())]
        edits.append((first, end, [prefix + new]))
    for row in changed_rows:
        source = lines[row]
        indent = source[: len(source) - len(source.lstrip())]
        edits.append((row, row + 1, [indent + "| " + " | ".join(rows[row]) + " |"]))
    for first, end, new_lines in sorted(edits, reverse=True):
        lines[first:end] = new_lines
    return "\n".join(lines)


def _is_code(hint: str) -> bool:
    """Whether a hint is the code rung: bare Python over several lines (the app shows it
    as a code block; see its hint rendering), or a fence alone."""
    text = hint.strip("\n")
    if text.startswith(("```", "~~~")) and text.rstrip().endswith(("```", "~~~")) and text.count("\n```") + text.count("\n~~~") == 1:
        return True
    if "\n" not in text or text.lstrip().startswith(("-", "*", "`")):
        return False
    import ast

    try:
        return bool(ast.parse(text).body)
    except (SyntaxError, ValueError):
        return False


_HINT_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})\s*hint\s*$")


def _hint_lines(file_lines: list[str], exercise: Exercise) -> list[int]:
    """The 1-based file line of each hint fence's first line of text, in order."""
    found = []
    for i in range(exercise.line, len(file_lines)):
        if _HINT_FENCE_RE.match(file_lines[i]):
            found.append(i + 2)
            if len(found) == len(exercise.hints):
                break
    return found


def rewrite_lesson(lesson: Lesson, translate: Translate, file_text: str | None = None) -> Lesson:
    """``lesson`` with every text unit passed through ``translate`` (which sees each one, in
    the order of the file). ``file_text`` is the lesson file's text (read when not given)."""
    text = file_text if file_text is not None else lesson.path.read_text(encoding="utf-8")
    file_lines = text.removeprefix("\ufeff").splitlines()
    header_end = next((i for i in range(1, len(file_lines)) if file_lines[i].strip() == "+++"), 0)

    def header_line(key: str) -> int:
        return (find_key(file_lines[1:header_end], key) or 0) + 1

    title = translate(Unit(lesson.title, header_line("title"), "title")) or lesson.title
    summary = lesson.summary
    if summary:
        summary = translate(Unit(summary, header_line("summary"), "summary")) or summary
    blocks: list[Block] = []
    for block in lesson.blocks:
        if isinstance(block, Prose):
            blocks.append(replace(block, markdown=_rewrite_markdown(block.markdown, file_lines, block.line, "prose", translate)))
        elif isinstance(block, Snippet):
            new_code = _rewrite_code(block.code, block.line + 1, f"snippet {block.index + 1}", translate)
            blocks.append(replace(block, code=new_code))
        else:
            blocks.append(_rewrite_exercise(block, file_lines, translate))
    return replace(lesson, title=title, summary=summary, blocks=tuple(blocks))


def _rewrite_exercise(exercise: Exercise, file_lines: list[str], translate: Translate) -> Exercise:
    name = f"'{exercise.short_id}'"
    title = translate(Unit(exercise.title, exercise.line, f"exercise title of {name}")) or exercise.title
    prompt = _rewrite_markdown(exercise.prompt, file_lines, exercise.line + 1, f"the prompt of {name}", translate)
    starter = _rewrite_code(exercise.starter, exercise.starter_line + 1, f"the starter of {name}", translate)
    hints = []
    for n, (hint, line) in enumerate(zip(exercise.hints, _hint_lines(file_lines, exercise), strict=False), start=1):
        where = f"hint {n} of {name}"
        hints.append(hint if _is_code(hint) else _rewrite_markdown(hint, file_lines, line, where, translate))
    hints.extend(exercise.hints[len(hints):])
    return replace(exercise, title=title, prompt=prompt, starter=starter, hints=tuple(hints))


def extract(lesson: Lesson, file_text: str | None = None) -> list[Unit]:
    """Every text unit of ``lesson``, in the order of the file."""
    units: list[Unit] = []

    def collect(unit: Unit) -> None:
        units.append(unit)

    rewrite_lesson(lesson, collect, file_text)
    return units


# --- catalogues ------------------------------------------------------------------------


def _occurrence(lesson: Lesson) -> str:
    # ``lessons/NN-name.md``: the file as the course names it, wherever it is checked out.
    return f"{lesson.path.parent.name}/{lesson.path.name}"


def _read(path: Path) -> polib.POFile:
    import polib

    try:
        return polib.pofile(str(path), encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable catalogue: {exc}") from None


def _usable(entry: polib.POEntry | None) -> bool:
    return entry is not None and not entry.obsolete and "fuzzy" not in entry.flags and bool(entry.msgstr)


def _key(msgid: str, context: str | None) -> tuple[str | None, str]:
    return (context, msgid)


# The compiled catalogue (``NN-name.mo`` beside the ``.po``) says which text of the ``.po``
# it was compiled from; one that does not match is ignored, never trusted.
SOURCE_KEY = "X-Tutor-Source-Sha256"


def compiled_path(po_path: Path) -> Path:
    """Where the compiled (gettext MO) form of the catalogue ``po_path`` lives."""
    return po_path.with_suffix(".mo")


def _digest(source: bytes) -> str:
    return hashlib.sha256(source).hexdigest()


def _compile(po: polib.POFile, source: bytes, path: Path) -> None:
    """Write the MO form of ``po`` (read from ``source``) to ``path``: only its current
    translations, as gettext's own compiler does, with the source's digest in its header."""
    import polib

    mo = polib.POFile()
    mo.metadata = {**po.metadata, SOURCE_KEY: _digest(source)}
    mo.extend(e for e in po if _usable(e))
    mo.save_as_mofile(str(path))


def _compiled(path: Path, source: bytes) -> gettext.GNUTranslations | None:
    """The compiled catalogue beside the ``.po`` at ``path`` whose text is ``source``, if it
    was compiled from exactly that text."""
    try:
        with compiled_path(path).open("rb") as file:
            compiled = gettext.GNUTranslations(file)
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return compiled if compiled.info().get(SOURCE_KEY.lower()) == _digest(source) else None


def compiled_is_current(path: Path) -> bool:
    """Whether the ``.po`` at ``path`` has an up-to-date compiled form (else loading the
    course parses the ``.po``, which is correct but several times slower)."""
    return _compiled(path, path.read_bytes()) is not None


def translated_lesson(lesson: Lesson, lang: str) -> Lesson:
    """``lesson`` in ``lang``: every unit its catalogue translates (and not stale) in that
    language, the rest English. No catalogue: the English lesson.

    The compiled form of the catalogue is read when it matches the ``.po`` (parsing PO
    text costs more than building the lesson); otherwise the ``.po`` itself."""
    if lang == ENGLISH:
        return lesson
    path = catalogue_path(lesson.path, lang)
    try:
        source = path.read_bytes()
    except OSError:
        return lesson
    compiled = _compiled(path, source)
    if compiled is not None:
        found = compiled

        def lookup(unit: Unit) -> str | None:
            text = found.pgettext(unit.context, unit.msgid) if unit.context else found.gettext(unit.msgid)
            return text if text != unit.msgid else None

        return rewrite_lesson(lesson, lookup)
    entries = {_key(e.msgid, e.msgctxt): e for e in _read(path) if _usable(e)}

    def lookup_po(unit: Unit) -> str | None:
        entry = entries.get(_key(unit.msgid, unit.context))
        return entry.msgstr if entry is not None else None

    return rewrite_lesson(lesson, lookup_po)


def _template(lesson: Lesson, lang: str, units: list[Unit]) -> polib.POFile:
    import polib

    pot = polib.POFile(wrapwidth=78)
    pot.metadata = {
        "Project-Id-Version": f"tutor lesson {lesson.id}",
        "Language": LANGUAGES[lang],
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    by_key: dict[tuple[str | None, str], polib.POEntry] = {}
    where = _occurrence(lesson)
    for unit in units:
        entry = by_key.get(_key(unit.msgid, unit.context))
        if entry is None:
            entry = polib.POEntry(msgid=unit.msgid, msgstr="", msgctxt=unit.context, comment=unit.kind)
            by_key[_key(unit.msgid, unit.context)] = entry
            pot.append(entry)
        entry.occurrences.append((where, str(unit.line)))
    return pot


def _similar(old: str, new: str) -> float:
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    return matcher.ratio() if matcher.real_quick_ratio() >= 0.6 and matcher.quick_ratio() >= 0.6 else 0.0


def _previous(unit_key: tuple[str | None, str], line: int, candidates: list[polib.POEntry]) -> polib.POEntry | None:
    """The translated entry ``unit_key`` most likely replaced: one at the same line, else the
    most similar English (as msgmerge's fuzzy matching does), among ``candidates``."""
    context, msgid = unit_key
    same = [e for e in candidates if e.msgctxt == context and e.msgstr]
    for entry in same:
        if any(int(n or 0) == line for _, n in entry.occurrences) and _similar(entry.msgid, msgid) >= 0.3:
            return entry
    best = max(same, key=lambda e: _similar(e.msgid, msgid), default=None)
    return best if best is not None and _similar(best.msgid, msgid) >= 0.6 else None


@dataclass(frozen=True)
class Update:
    """What :func:`update_catalogue` did to one catalogue."""

    path: Path
    entries: int
    added: int
    stale: int
    obsolete: int


def update_catalogue(lesson: Lesson, lang: str) -> Update:
    """Bring ``lesson``'s ``lang`` catalogue up to date with the English (creating it): new
    English text becomes an untranslated entry, changed English keeps the old translation
    marked fuzzy (with the old English as its previous msgid), English that is gone
    becomes obsolete."""
    units = extract(lesson)
    pot = _template(lesson, lang, units)
    path = catalogue_path(lesson.path, lang)
    if path.is_file():
        po = _read(path)
        before = {_key(e.msgid, e.msgctxt) for e in po if not e.obsolete}
        po.merge(pot)
        added = [e for e in po if not e.obsolete and _key(e.msgid, e.msgctxt) not in before]
        gone = [e for e in po if e.obsolete]
        stale = 0
        for entry in added:
            line = int(entry.occurrences[0][1]) if entry.occurrences else 0
            old = _previous(_key(entry.msgid, entry.msgctxt), line, gone)
            if old is not None:
                entry.msgstr = old.msgstr
                entry.previous_msgid = old.msgid
                entry.flags = [*entry.flags, "fuzzy"] if "fuzzy" not in entry.flags else entry.flags
                gone.remove(old)
                po.remove(old)
                stale += 1
        for entry in [e for e in po if e.obsolete and not e.msgstr]:
            po.remove(entry)
        po.metadata.update({k: v for k, v in pot.metadata.items() if k not in po.metadata})
    else:
        po, added, stale = pot, list(pot), 0
    order = {_key(e.msgid, e.msgctxt): n for n, e in enumerate(pot)}
    po.sort(key=lambda e: (e.obsolete, order.get(_key(e.msgid, e.msgctxt), len(order))))
    po.wrapwidth = 78
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    _compile(po, path.read_bytes(), compiled_path(path))
    return Update(path, len(pot), len(added) - stale, stale, sum(1 for e in po if e.obsolete))


# --- checking a catalogue --------------------------------------------------------------

_CODE_SPAN_RE = re.compile(r"(`+)(.+?)\1")
_LINK_RE = re.compile(r"\]\(([^)\s]*)[^)]*\)")
_PLACEHOLDER_RE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_.]*\}")


def _markup(text: str) -> dict[str, list[str]]:
    """What must be the same in a text and its translation: code spans, link targets,
    ``{placeholders}``, and how many emphasis markers there are."""
    spans = sorted({m.group(2).strip() for m in _CODE_SPAN_RE.finditer(text)})
    rest = _CODE_SPAN_RE.sub("", text)
    strong = rest.count("**")
    single = rest.replace("**", "").count("*")
    return {
        "code spans": spans,
        "links": sorted(set(_LINK_RE.findall(rest))),
        "placeholders": sorted(set(_PLACEHOLDER_RE.findall(rest))),
        "emphasis markers": [f"{strong} '**'", f"{single} '*'"],
    }


_inline = MarkdownIt("commonmark", {"html": False})
_RENDERED = {"strong_open": "bold", "em_open": "italic", "link_open": "link"}


def _rendered(text: str) -> dict[str, int]:
    """How many bold, italic, code and link runs Markdown makes of ``text``: markers that
    are all there can still fail to render, as ``**注意：**然后`` does (CommonMark does not
    close emphasis after punctuation when a letter follows), so the parse is compared too."""
    counts = dict.fromkeys([*_RENDERED.values(), "literal '*'", "emphasis inside emphasis"], 0)
    for block in _inline.parseInline(text):
        depth = 0
        for token in block.children or []:
            if token.type in ("strong_open", "em_open"):
                counts["emphasis inside emphasis"] += depth > 0
                depth += 1
            elif token.type in ("strong_close", "em_close"):
                depth -= 1
            if token.type in _RENDERED:
                counts[_RENDERED[token.type]] += 1
            elif token.type == "text":
                counts["literal '*'"] += token.content.count("*")
    return counts


def _markup_problem(msgid: str, msgstr: str) -> str | None:
    english, translated = _markup(msgid), _markup(msgstr)
    for what in english:
        if english[what] != translated[what]:
            lost = [x for x in english[what] if x not in translated[what]]
            extra = [x for x in translated[what] if x not in english[what]]
            said = "; ".join(part for part in (
                f"the English has {', '.join(map(repr, lost))}" if lost else "",
                f"the translation has {', '.join(map(repr, extra))}" if extra else "",
            ) if part)
            return f"breaks the Markdown: {what} differ ({said})"
    if not any(mark in msgid + msgstr for mark in "*_["):
        return None  # nothing that renders as emphasis or a link: no parse needed
    shown, made = _rendered(msgid), _rendered(msgstr)
    for what in shown:
        if shown[what] != made[what]:
            return (f"breaks the Markdown: it renders {made[what]} {what} where the English renders {shown[what]} "
                    "(an emphasis that ends in full-width punctuation before a letter does not close: put the punctuation outside)")
    return None


def ambiguous_width(msgid: str, msgstr: str) -> list[str]:
    """Characters of ``msgstr`` whose width East Asian terminals and xterm.js disagree on
    (Unicode's "ambiguous" width) that the English does not have, in order."""
    seen = set(msgid)
    found = dict.fromkeys(ch for ch in msgstr if unicodedata.east_asian_width(ch) == "A" and ch not in seen)
    return list(found)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a translation, at the English source's line."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


def _short(text: str, width: int = 50) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


@dataclass(frozen=True)
class Report:
    """A lesson's translation in one language, checked: its problems and how many of its
    entries have a current translation."""

    problems: list[Problem]
    translated: int
    entries: int


def catalogue_report(lesson: Lesson, lang: str) -> Report:
    """Every unit of ``lesson`` whose ``lang`` translation is missing, stale (fuzzy, or its
    English changed since it was translated), breaks the Markdown or uses an
    ambiguous-width character, at the line of the English; and how many entries are
    translated. Reads text only: nothing runs."""
    path = catalogue_path(lesson.path, lang)
    units = extract(lesson)
    keys = {_key(u.msgid, u.context) for u in units}
    if not path.is_file():
        hint = f"`tutor check-lessons --lang {lang} --update-catalogue` starts one"
        return Report([Problem(lesson.path, 1, f"no {lang} catalogue ({path}); {hint}")], 0, len(keys))
    po = _read(path)
    entries = {_key(e.msgid, e.msgctxt): e for e in po if not e.obsolete}
    unmatched = [e for e in po if _key(e.msgid, e.msgctxt) not in keys]
    problems: list[Problem] = []
    reported: set[tuple[tuple[str | None, str], int]] = set()
    for unit in units:
        key = _key(unit.msgid, unit.context)
        if (key, unit.line) in reported:
            continue
        reported.add((key, unit.line))
        entry = entries.get(key)
        said = f"{unit.kind} \"{_short(unit.msgid)}\""
        if entry is None:
            old = _previous(key, unit.line, unmatched)
            if old is not None:
                problems.append(Problem(lesson.path, unit.line, f"stale: the English of this {said} changed since it was translated "
                                        f"(was \"{_short(old.msgid)}\"); run --update-catalogue and revise it"))
            else:
                problems.append(Problem(lesson.path, unit.line, f"missing: no entry for the {said}; run --update-catalogue"))
            continue
        if "fuzzy" in entry.flags:
            problems.append(Problem(lesson.path, unit.line, f"stale: the translation of the {said} is marked fuzzy (its English changed)"))
            continue
        if not entry.msgstr:
            problems.append(Problem(lesson.path, unit.line, f"missing: the {said} is not translated"))
            continue
        broken = _markup_problem(entry.msgid, entry.msgstr)
        if broken:
            problems.append(Problem(lesson.path, unit.line, f"the translation of the {said} {broken}"))
        odd = ambiguous_width(entry.msgid, entry.msgstr)
        if odd:
            names = ", ".join(f"'{ch}' (U+{ord(ch):04X} {unicodedata.name(ch, '?')})" for ch in odd)
            problems.append(Problem(lesson.path, unit.line, f"the translation of the {said} has ambiguous-width characters: {names}"))
    translated = sum(1 for key in keys if _usable(entries.get(key)))
    return Report(problems, translated, len(keys))


def catalogue_problems(lesson: Lesson, lang: str) -> list[Problem]:
    """The problems of :func:`catalogue_report`."""
    return catalogue_report(lesson, lang).problems


