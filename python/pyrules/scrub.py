# SPDX-License-Identifier: Apache-2.0
"""scrub.py - a spec's secret values kept out of text that is logged.

The compiler marks what it sees derive from a secret (Message.redacted,
Change.secret). These texts are the last line of defence for a secret that
reaches a logged text some other way (a policy copied it into a field that
is no secret, and another policy printed it): the values at the target's
secret paths of the spec as it came in (rc_secret_values), found in a text
and replaced with "[REDACTED]" by the rule rulesd's decision log and `rulec
apply --explain` follow (util/scrub.h):

- matching ignores ASCII case (upper() and lower() of a secret are found);
- a secret of 4 bytes or more is found anywhere; a shorter one only where
  it stands as a whole word (no letter, digit, '_' or non-ASCII byte on
  either side), so a secret such as "1" does not shred every number;
- a secret is also found as JSON writes it (escaped quotes, backslashes and
  control characters), where a printed value holds it;
- overlapping and adjacent finds become one marker.
"""
from __future__ import annotations

import json
from typing import Iterable, List, Tuple

MARKER = "[REDACTED]"
SHORT = 4

_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ", b"abcdefghijklmnopqrstuvwxyz")


def _word_byte(c: int) -> bool:
    return c >= 0x80 or c == 0x5F or 0x30 <= c <= 0x39 or 0x41 <= c <= 0x5A or 0x61 <= c <= 0x7A


class Scrubber:
    """Finds secret texts (str or bytes) in other texts; see the module."""

    __slots__ = ("_patterns",)

    def __init__(self, secrets: Iterable = ()):
        patterns = set()
        for s in secrets:
            b = s.encode("utf-8", "surrogateescape") if isinstance(s, str) else bytes(s)
            if not b:
                continue
            patterns.add(b.translate(_FOLD))
            escaped = json.dumps(b.decode("utf-8", "surrogateescape"), ensure_ascii=False)[1:-1] \
                .encode("utf-8", "surrogateescape")
            if escaped != b:
                patterns.add(escaped.translate(_FOLD))
        self._patterns = tuple(sorted(patterns))

    def __bool__(self):
        return bool(self._patterns)

    def _spans(self, text: bytes, first_only: bool) -> List[Tuple[int, int]]:
        folded = text.translate(_FOLD)
        spans = []
        for p in self._patterns:
            at = folded.find(p)
            while at >= 0:
                end = at + len(p)
                whole = len(p) >= SHORT or (
                    not (at > 0 and _word_byte(text[at - 1])) and not (end < len(text) and _word_byte(text[end])))
                if whole:
                    spans.append((at, end))
                    if first_only:
                        return spans
                at = folded.find(p, at + 1)
        return spans

    def found(self, text: str) -> bool:
        """Whether text holds a secret."""
        if not self._patterns:
            return False
        return bool(self._spans(text.encode("utf-8", "surrogateescape"), True))

    def __call__(self, text: str, marker: str = MARKER) -> str:
        """text with every secret in it replaced by marker."""
        if not self._patterns or text is None:
            return text
        raw = text.encode("utf-8", "surrogateescape")
        spans = sorted(self._spans(raw, False))
        if not spans:
            return text
        out, pos = [], 0
        cur_start, cur_end = spans[0]
        merged = []
        for s, e in spans[1:]:
            if s <= cur_end:
                cur_end = max(cur_end, e)
            else:
                merged.append((cur_start, cur_end))
                cur_start, cur_end = s, e
        merged.append((cur_start, cur_end))
        m = marker.encode("utf-8")
        for s, e in merged:
            out.append(raw[pos:s])
            out.append(m)
            pos = e
        out.append(raw[pos:])
        return b"".join(out).decode("utf-8", "surrogateescape")
