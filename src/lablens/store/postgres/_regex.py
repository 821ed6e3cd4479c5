"""The filter language's RE2 patterns as PostgreSQL regular expressions (its ARE flavour).

``$regex`` patterns are RE2 (``lablens.store.re2`` checks them), and PostgreSQL matches with its
own engine, whose syntax differs in a few places. :func:`pg_regex` rewrites what differs, so
that a pattern matches the same strings on both engines: ``\\b``/``\\B`` (word boundaries,
``\\y``/``\\Y`` here), ``\\z``, ``\\Q...\\E``, ``\\x41`` and ``\\x{263a}``, named groups, ``.``
(which never matches a newline in RE2 without the ``s`` flag) and the leading ``(?ims)`` flags
(``m`` becomes PostgreSQL's ``w``: ``^`` and ``$`` at line ends). What PostgreSQL cannot
express (Unicode classes ``\\p{..}``, flags in mid-pattern, repetition counts past 255) is
refused with ``InvalidFilter`` rather than matched differently.
"""

from __future__ import annotations

import re

from lablens.store.errors import InvalidFilter

__all__ = ["pg_regex"]

_LEADING_FLAGS = re.compile(r"\(\?([imsU]*)\)")
_BOUND = re.compile(r"\{(\d+)(,(\d*))?\}")
_NAMED_GROUP = re.compile(r"\(\?P?<[A-Za-z_][A-Za-z0-9_]*>")
_MAX_BOUND = 255  # PostgreSQL's RE_DUP_MAX


class _Unsupported(Exception):
    pass


def pg_regex(pattern: str, *, field: str, ignore_case: bool = False) -> str:
    """The PostgreSQL regular expression matching what the RE2 ``pattern`` matches.

    ``field`` names the filter's field for the error; ``ignore_case`` adds the ``i`` flag.
    Raises ``InvalidFilter`` for RE2 syntax PostgreSQL has no equivalent of.
    """
    try:
        return _translate(pattern, ignore_case)
    except _Unsupported as exc:
        raise InvalidFilter(
            f"this $regex uses {exc}, which the PostgreSQL store cannot match; rewrite it"
            " without that",
            field=f"filters.{field}.$regex",
        ) from None


def _translate(pattern: str, ignore_case: bool) -> str:
    flags = set("i" if ignore_case else "")
    pos = 0
    while m := _LEADING_FLAGS.match(pattern, pos):
        flags |= set(m.group(1))
        pos = m.end()
    if "U" in flags:
        raise _Unsupported("the U (ungreedy) flag")
    dot_all = "s" in flags
    out: list[str] = []
    n = len(pattern)
    while pos < n:
        c = pattern[pos]
        if c == "\\":
            text, pos = _escape(pattern, pos, in_class=False)
            out.append(text)
        elif c == "[":
            text, pos = _bracket(pattern, pos)
            out.append(text)
        elif c == ".":
            out.append("." if dot_all else "[^\\n]")
            pos += 1
        elif c == "(" and pattern.startswith("(?", pos):
            if named := _NAMED_GROUP.match(pattern, pos):
                out.append("(")
                pos = named.end()
            elif pattern.startswith("(?:", pos):
                out.append("(?:")
                pos += 3
            else:
                raise _Unsupported("flags in mid-pattern ((?i) or (?i:...) after the start)")
        elif c == "{":
            bound = _BOUND.match(pattern, pos)
            if bound:
                for number in (bound.group(1), bound.group(3)):
                    if number and int(number) > _MAX_BOUND:
                        raise _Unsupported(f"a repetition count above {_MAX_BOUND}")
                out.append(bound.group(0))
                pos = bound.end()
            else:
                out.append("\\{")  # RE2 reads a { that starts no repetition as itself
                pos += 1
        elif c == "}":
            out.append("\\}")
            pos += 1
        else:
            out.append(c)
            pos += 1
    options = ("i" if "i" in flags else "") + ("w" if "m" in flags else "")
    return (f"(?{options})" if options else "") + "".join(out)


def _literal(ch: str) -> str:
    """One character matched as itself."""
    return ch if ch.isalnum() or ch == "_" else "\\" + ch if ord(ch) < 128 else ch


def _escape(pattern: str, pos: int, *, in_class: bool) -> tuple[str, int]:
    """An escape at ``pattern[pos]`` (a backslash) as PostgreSQL writes it, and the next pos."""
    if pos + 1 >= len(pattern):
        raise _Unsupported("a trailing backslash")
    d = pattern[pos + 1]
    if d == "x":
        if pattern.startswith("{", pos + 2):
            end = pattern.index("}", pos + 3)
            return f"\\U{int(pattern[pos + 3 : end], 16):08X}", end + 1
        return f"\\u00{pattern[pos + 2 : pos + 4].upper()}", pos + 4
    if d == "Q":
        end = pattern.find("\\E", pos + 2)
        stop = len(pattern) if end < 0 else end
        quoted = "".join(_literal(ch) for ch in pattern[pos + 2 : stop])
        return quoted, stop if end < 0 else end + 2
    if d == "E":
        return "", pos + 2  # a stray \E ends nothing
    if d in "pP":
        raise _Unsupported("Unicode classes (\\p, \\P)")
    if d == "C":
        raise _Unsupported("\\C (any byte)")
    if not in_class:
        mapped = {"b": "\\y", "B": "\\Y", "z": "\\Z"}.get(d)
        if mapped:
            return mapped, pos + 2
    return "\\" + d, pos + 2


def _bracket(pattern: str, pos: int) -> tuple[str, int]:
    """A bracket expression starting at ``pattern[pos]`` (a ``[``), and the pos after it."""
    out = ["["]
    i = pos + 1
    if pattern.startswith("^", i):
        out.append("^")
        i += 1
    if pattern.startswith("]", i):  # a leading ] is itself
        out.append("\\]")
        i += 1
    while i < len(pattern):
        c = pattern[i]
        if c == "]":
            out.append("]")
            return "".join(out), i + 1
        if c == "\\":
            text, i = _escape(pattern, i, in_class=True)
            out.append(text)
        elif pattern.startswith("[:", i):
            end = pattern.index(":]", i + 2)
            out.append(pattern[i : end + 2])
            i = end + 2
        elif c == "[":
            out.append("\\[")
            i += 1
        else:
            out.append(c)
            i += 1
    raise _Unsupported("an unclosed bracket expression")
