"""Opening files: gzip by magic bytes, decoding checks, messages that name the file."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

from salesstd.errors import InvalidLogError

GZIP_MAGIC = b"\x1f\x8b"


def read_bytes(path: str | os.PathLike[str]) -> tuple[Path, bytes]:
    """Whole file contents, gunzipped if it starts with the gzip magic bytes.

    Raises:
        InvalidLogError: If the file is missing, unreadable, or a truncated or corrupt gzip.
    """
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError as err:
        raise InvalidLogError(f"file {str(p)!r} does not exist; check the path.") from err
    except IsADirectoryError as err:
        raise InvalidLogError(f"{str(p)!r} is a directory; pass the path of a file.") from err
    except OSError as err:
        raise InvalidLogError(f"file {str(p)!r} cannot be read: {err.strerror}.") from err
    if raw[:2] == GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as err:
            raise InvalidLogError(
                f"file {str(p)!r} is a truncated or corrupt gzip file ({err}); "
                "download or export it again."
            ) from err
    return p, raw


def decode(p: Path, raw: bytes, encoding: str) -> str:
    """Decode text, naming the first bad byte and the `encoding=` fix."""
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise InvalidLogError(
            f"file {str(p)!r} is not valid {encoding.upper()} text: byte "
            f"{raw[err.start : err.start + 1]!r} on line {line}. Pass encoding= the file's "
            "encoding, e.g. encoding='latin-1' or 'cp1252'."
        ) from err
    except LookupError as err:
        raise InvalidLogError(f"encoding {encoding!r} is not known to Python.") from err
    return text.removeprefix("\ufeff")
