"""Records from a CSV or JSON export, streamed: memory stays flat however large the file.

A file is read twice by an import (validate everything, then write), so a source
opens the file anew for each pass. Rows are numbered as a person finds them: for
CSV and JSON lines the line in the file (the CSV header is line 1), for a JSON array
the position of the element in the array.

Text must be UTF-8 (a byte-order mark is fine). Anything else stops the read with
the row where it went wrong and how to fix it, never a traceback.
"""

from __future__ import annotations

import codecs
import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from pilotscale.refusal import Invalid

Format = Literal["csv", "json", "jsonl"]
FORMATS: tuple[str, ...] = ("csv", "json", "jsonl")
_EXTENSIONS: dict[str, Format] = {
    ".csv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
}
_CHUNK = 64 * 1024
# One JSON array element larger than this is a broken file, not a record.
_MAX_ELEMENT = 1024 * 1024
Progress = Callable[[int], None]  # called with the bytes read so far


class ReadError(Invalid):
    """The file cannot be read on from `row` on; `message` says why and what to do."""

    def __init__(self, row: int, message: str) -> None:
        super().__init__(f"{row}: {message}")
        self.row = row
        self.reason = message


@dataclass(frozen=True)
class Record:
    row: int
    fields: dict[str, Any]  # lower-case column names
    problem: str = ""  # set when the row itself is unreadable (bad JSON, extra CSV fields)


def detect_format(path: Path, given: str | None = None) -> Format:
    if given:
        if given not in FORMATS:
            raise ValueError(f"unknown format '{given}'; use one of: {', '.join(FORMATS)}")
        return given  # type: ignore[return-value]
    found = _EXTENSIONS.get(path.suffix.lower())
    if found is None:
        raise ValueError(
            f"cannot tell the format of '{path.name}' from its extension; "
            f"name it .csv, .json or .jsonl, or pass --format ({', '.join(FORMATS)})"
        )
    return found


class RecordFile:
    """A CSV or JSON file of records, readable any number of times."""

    def __init__(self, path: Path, fmt: Format) -> None:
        self.path = path
        self.format = fmt
        self.size = path.stat().st_size
        self.header: list[str] | None = None  # CSV only, known once the first pass began

    def records(self, progress: Progress | None = None) -> Iterator[Record]:
        with self.path.open("rb") as raw:
            _refuse_utf16(raw.read(4))
            raw.seek(0)
            if self.format == "csv":
                yield from self._csv(raw, progress)
            elif self.format == "jsonl" or _first_char(raw) == "{":
                yield from _json_lines(raw, progress)
            else:
                yield from _json_array(raw, progress)

    def _csv(self, raw: IO[bytes], progress: Progress | None) -> Iterator[Record]:
        lines = _utf8_lines(raw, progress)
        reader = csv.reader(lines)
        rows = _csv_rows(reader)
        header = next(rows, None)
        if header is None:
            return
        self.header = [h.strip().lower() for h in header]
        width = len(self.header)
        for values in rows:
            row = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > width:
                yield Record(
                    row,
                    {},
                    f"{len(values)} fields but the header has {width}: quote values that "
                    "contain commas",
                )
                continue
            padded = values + [""] * (width - len(values))
            yield Record(row, dict(zip(self.header, padded, strict=True)))


def _csv_rows(reader: Any) -> Iterator[list[str]]:
    """The reader's rows; a row the csv module cannot split is a ReadError at its line."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ReadError(
                reader.line_num,
                f"this line cannot be read as CSV ({exc}); check its quotes, and save the "
                "file with Windows or Unix line ends",
            ) from None


def _refuse_utf16(head: bytes) -> None:
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise ReadError(1, "the file is UTF-16 text; save it as UTF-8 (CSV UTF-8 in Excel)")


def _first_char(raw: IO[bytes]) -> str:
    head = raw.read(_CHUNK).decode("utf-8-sig", errors="replace").lstrip()
    raw.seek(0)
    return head[:1]


def _decode(line: bytes, row: int) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = line[exc.start : exc.start + 1].hex().upper()
        hint = ""
        try:
            line.decode("cp1252")
            hint = " (it looks like Latin-1/Windows-1252)"
        except UnicodeDecodeError:
            pass
        raise ReadError(
            row,
            f"not UTF-8 text: byte 0x{bad} at character {exc.start + 1}{hint}; save the file "
            "as UTF-8, e.g. iconv -f WINDOWS-1252 -t UTF-8",
        ) from None


def _utf8_lines(raw: IO[bytes], progress: Progress | None) -> Iterator[str]:
    """Decoded lines, line endings kept (the csv module needs them for quoted newlines)."""
    for number, line in enumerate(raw, start=1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if progress and number % 1000 == 0:
            progress(raw.tell())
        yield _decode(line, number)
    if progress:
        progress(raw.tell())


# json.loads recurses once per nesting level: a hostile file would end in RecursionError.
_TOO_DEEP = "nested too deeply to be a record: each record is one flat object {...}"


def _json_lines(raw: IO[bytes], progress: Progress | None) -> Iterator[Record]:
    for number, text in enumerate(_utf8_lines(raw, progress), start=1):
        if not text.strip():
            continue
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            yield Record(number, {}, f"not valid JSON: {exc.msg} at character {exc.colno}")
            continue
        except RecursionError:
            yield Record(number, {}, _TOO_DEEP)
            continue
        yield _object(number, value)


def _object(row: int, value: Any) -> Record:
    if not isinstance(value, dict):
        return Record(row, {}, f"expected an object {{...}}, found {type(value).__name__}")
    return Record(row, {str(k).strip().lower(): v for k, v in value.items()})


def _json_array(raw: IO[bytes], progress: Progress | None) -> Iterator[Record]:
    """Elements of a top-level JSON array, decoded one at a time from a sliding buffer."""
    decoder = json.JSONDecoder()
    utf8 = codecs.getincrementaldecoder("utf-8-sig")()
    buffer, eof, index = "", False, 0

    def fill() -> None:
        nonlocal buffer, eof
        chunk = raw.read(_CHUNK)
        eof = not chunk
        try:
            buffer += utf8.decode(chunk, final=eof)
        except UnicodeDecodeError:
            raise ReadError(
                index + 1, "not UTF-8 text; save the file as UTF-8, e.g. iconv -f WINDOWS-1252"
            ) from None
        if progress:
            progress(raw.tell())

    def next_char() -> str:
        nonlocal buffer
        while True:
            stripped = buffer.lstrip()
            if stripped:
                buffer = stripped
                return buffer[0]
            buffer = ""
            if eof:
                return ""
            fill()

    if next_char() != "[":
        raise ReadError(1, "a .json file is a JSON array of objects, or one object per line")
    buffer = buffer[1:]
    expect_value = True
    while True:
        char = next_char()
        if char == "]" and (expect_value is False or index == 0):
            return
        if char == "":
            raise ReadError(index + 1, "the JSON array is not closed with ']'")
        if not expect_value:
            if char != ",":
                raise ReadError(index + 1, f"expected ',' or ']' after element {index}")
            buffer = buffer[1:]
            expect_value = True
            continue
        while True:
            try:
                value, end = decoder.raw_decode(buffer)
                break
            except json.JSONDecodeError as exc:
                if eof or len(buffer) > _MAX_ELEMENT:
                    raise ReadError(index + 1, f"not valid JSON: {exc.msg}") from None
                fill()
            except RecursionError:
                raise ReadError(index + 1, _TOO_DEEP) from None
        buffer = buffer[end:]
        index += 1
        expect_value = False
        yield _object(index, value)
