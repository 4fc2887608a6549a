"""Text from outside (file names, comments, titles) made safe to show on a terminal or in a file.

A file name may hold an escape sequence that clears the screen, a carriage return that hides
what comes before it, or bytes that are not UTF-8; shown raw, it speaks to the terminal
instead of to the reader.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["printable"]

# C0 and C1 controls, DEL, and lone surrogates (undecodable bytes of a file name)
_UNSAFE = "[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029]"


@cache
def _unsafe() -> re.Pattern:
    """Compiled on the first text that needs it: most titles are printable as they are."""
    return re.compile(_UNSAFE)


def printable(text: str, keep: str = "") -> str:
    """`text` with every control character spelled as an escape (`\\x1b`), nothing else changed.

    `keep`: controls to leave as they are (`"\\n\\t"` for a multi-line text such as a
    circuit's source, whose comments may hold anything).
    """
    if text.isprintable():  # every character _UNSAFE matches is one isprintable() refuses
        return text
    return _unsafe().sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def _escape(m: re.Match) -> str:
    ch = m.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
