"""Literal strings that every match of an RE2 regular expression must contain.

Used to narrow `$regex` document filters with the trigram index: a record can match only if its
document contains each required literal. The scan is deliberately conservative: anything it does
not fully understand ends the current literal run (losing narrowing power, never correctness),
and constructs that change what a literal matches give up entirely (None):

- top-level alternation `a|b` (a literal of one branch is not required);
- flag groups `(?i)` and friends, which may make later literals case-insensitive;
- `\\Q...\\E` quoting.

Groups and character classes are skipped whole (their content may repeat, alternate or be
optional); a literal followed by `?`, `*` or `{0,...}` is optional and dropped; `+` and other
repetitions end the run. Escapes of punctuation (`\\.`) are literals; escapes of letters and
digits (`\\d`, `\\x41`, `\\101`, `\\p{L}`) are skipped with their arguments.
"""

from __future__ import annotations

import re

_REPEAT = re.compile(r"\{(\d+)(?:,(\d*))?\}")
_FLAGS = re.compile(r"\(\?[A-Za-z-]*\)")
_HEX2 = re.compile(r"[0-9A-Fa-f]{0,2}")
_OCTAL = re.compile(r"[0-7]{0,2}")


def required_literals(pattern: str) -> list[str] | None:
    """Literals every match contains ([] when none are known), or None when unsure of any."""
    if "\\Q" in pattern:
        return None
    runs: list[str] = []
    run: list[str] = []

    def end() -> None:
        if run:
            runs.append("".join(run))
            run.clear()

    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "|":
            return None
        if c == "\\":
            literal, i = _escape(pattern, i)
            if literal is None:
                end()
            else:
                run.append(literal)
            continue
        if c == "(":
            if _FLAGS.match(pattern, i):
                return None
            j = _group_end(pattern, i)
            if j is None:
                return None
            end()
            i = j + 1
            continue
        if c == "[":
            j = _class_end(pattern, i)
            if j is None:
                return None
            end()
            i = j + 1
            continue
        if c in "*?":
            if run:
                run.pop()  # the literal before is optional
            end()
            i = _lazy(pattern, i + 1)
            continue
        if c == "{":
            m = _REPEAT.match(pattern, i)
            if m and int(m.group(1)) == 0 and run:
                run.pop()
            end()
            i = _lazy(pattern, m.end()) if m else i + 1
            continue
        if c == "+":
            end()
            i = _lazy(pattern, i + 1)
            continue
        if c in ".^$":
            end()
            i += 1
            continue
        run.append(c)
        i += 1
    end()
    return runs


def _lazy(pattern: str, i: int) -> int:
    """Skip a lazy-quantifier `?` at i."""
    return i + 1 if i < len(pattern) and pattern[i] == "?" else i


def _escape(pattern: str, i: int) -> tuple[str | None, int]:
    """(the literal an escape at i stands for, or None; the index after it)."""
    if i + 1 >= len(pattern):
        return None, i + 1
    d = pattern[i + 1]
    if not (d.isascii() and d.isalnum()):
        return d, i + 2  # an escaped punctuation character (or any non-ASCII) is itself
    j = i + 2
    if d in "xpP" and j < len(pattern) and pattern[j] == "{":
        close = pattern.find("}", j)
        return None, (close + 1 if close >= 0 else len(pattern))
    if d == "x":
        return None, _HEX2.match(pattern, j).end()  # type: ignore[union-attr]
    if d in "pP":
        return None, j + 1
    if d in "01234567":
        return None, _OCTAL.match(pattern, j).end()  # type: ignore[union-attr]
    return None, j


def _class_end(pattern: str, i: int) -> int | None:
    """Index of the `]` closing the character class that opens at i."""
    n, j = len(pattern), i + 1
    if j < n and pattern[j] == "^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n:
        if pattern[j] == "\\":
            j += 2
        elif pattern.startswith("[:", j):
            close = pattern.find(":]", j + 2)
            if close < 0:
                return None
            j = close + 2
        elif pattern[j] == "]":
            return j
        else:
            j += 1
    return None


def _group_end(pattern: str, i: int) -> int | None:
    """Index of the `)` closing the group that opens at i."""
    depth, j, n = 0, i, len(pattern)
    while j < n:
        c = pattern[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            close = _class_end(pattern, j)
            if close is None:
                return None
            j = close + 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return None
