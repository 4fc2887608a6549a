"""The one sanitiser for text from outside (file names, circuit lines, option values, CSV
headers, parameter keys, titles) before it is shown on a terminal, in a pipe or in a file.

Echoed raw, such text speaks to the terminal instead of to the reader: ESC starts a
sequence that clears the screen or, as an OSC (ESC ] ... BEL), sets the window title; a
carriage return hides what came before it; a bidi control (U+202E and kin) shows the text
after it reversed, so a name can read as something it is not (in titles and the page's
<title> too). Every such character is spelled as an escape (`\\x1b`, `\\u202e`) so the
reader sees that it is there. It lives in core, below everything that echoes text: the
errors of core/syntax use it, and nothing here imports upward.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["UNSAFE", "printable"]

# C0 and C1 controls and DEL (ESC, BEL, CR, the C1 CSI U+009B ...); lone surrogates (bytes
# of a file name that are not UTF-8); line and paragraph separators; the bidi controls:
# LRE..RLO U+202A-202E, LRI..PDI U+2066-2069, LRM/RLM U+200E/200F, ALM U+061C
UNSAFE = ("[\x00-\x1f\x7f-\x9f\ud800-\udfff\u2028\u2029\u202a-\u202e\u2066-\u2069"
          "\u200e\u200f\u061c]")


@cache
def _unsafe() -> re.Pattern:
    """Compiled on the first text that needs it: most text is printable as it is."""
    return re.compile(UNSAFE)


def printable(text: str, keep: str = "") -> str:
    """`text` with every control character spelled as an escape (`\\x1b`), nothing else
    changed.

    `keep`: controls to leave as they are (`"\\n\\t"` for a multi-line text such as a
    circuit's source, whose comments may hold anything).
    """
    if text.isprintable():  # every character UNSAFE matches is one isprintable() refuses
        return text
    return _unsafe().sub(lambda m: m.group() if m.group() in keep else _escape(m), text)


def _escape(m: re.Match) -> str:
    ch = m.group()
    code = ord(ch)
    if 0xDC80 <= code <= 0xDCFF:  # a byte os.fsdecode could not decode
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
