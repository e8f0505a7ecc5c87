"""The one bounded reader of JSON files (settings, manifests, noise profiles, recordings).

:func:`read_json` refuses before reading anything that is not a regular file (a FIFO can never
hang it), anything larger than ``max_bytes``, and then text that is not UTF-8 JSON, nested too
deeply, or whose top level is not an object. Every refusal is one
:class:`InputError` line that starts with what the file was for (``--settings``, ``manifest``...).
"""
from __future__ import annotations

import json
import os
import stat

from .errors import InputError, LimitError
from .load import read_bytes

#: Default size cap: real settings, manifests and profiles are a few KiB.
DEFAULT_MAX_JSON_BYTES = 4 << 20


def read_json(path: str | os.PathLike, *, what: str, max_bytes: int = DEFAULT_MAX_JSON_BYTES,
              fix: str = "") -> dict:
    """Read ``path`` as a JSON object, bounded (see the module docstring).

    ``what`` names the file in messages (``"--settings"``); ``fix`` is appended to refusals of
    the content ("write one with capture --save-settings").
    """
    return read_json_bytes(path, what=what, max_bytes=max_bytes, fix=fix)[0]


def read_json_bytes(path: str | os.PathLike, *, what: str, max_bytes: int = DEFAULT_MAX_JSON_BYTES,
                    fix: str = "") -> tuple[dict, bytes]:
    """:func:`read_json`, and the bytes it parsed (for a digest of the file)."""
    p = os.fspath(path)
    tail = f"; {fix}" if fix else ""
    try:
        st = os.stat(p)
    except ValueError:
        raise InputError(f"{what}: the path contains a NUL byte", path=p.replace("\0", "\\0")) from None
    except FileNotFoundError:
        raise InputError(f"{what}: no such file", path=p) from None
    except OSError as e:
        raise InputError(f"{what}: cannot read: {e.strerror or e}", path=p) from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file (a FIFO, device or socket)"
        raise InputError(f"{what}: is {kind}; give a JSON file", path=p)
    try:
        data = read_bytes(p, max_bytes=max_bytes)
    except LimitError:
        raise InputError(f"{what}: larger than {max_bytes:,} bytes; not a file scopecheck wrote{tail}",
                         path=p) from None
    except InputError as e:
        raise InputError(f"{what}: {str(e).removeprefix(p + ': ')}", path=p) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(f"{what}: not UTF-8 text, so not JSON{tail}", path=p) from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise InputError(f"{what}: not JSON ({str(e).splitlines()[0][:80]}){tail}", path=p) from None
    except RecursionError:  # the C decoder's nesting limit: raised cleanly, nothing half-built
        raise InputError(f"{what}: JSON nested too deeply{tail}", path=p) from None
    if not isinstance(doc, dict):
        raise InputError(f"{what}: a JSON {type(doc).__name__}, not an object{tail}", path=p)
    return doc, data


__all__ = ["DEFAULT_MAX_JSON_BYTES", "read_json", "read_json_bytes"]
