"""Batch-transform capture as AWS writes it, and inputs that are not in the dataset's format.

A transform job with `DataCaptureConfig` does not copy its data: under `<DestinationS3Uri>/input/yyyy/mm/dd/hh/`
and `<DestinationS3Uri>/output/yyyy/mm/dd/hh/` it writes *manifests*, each a JSON list whose first element is
`{"prefix": "s3://bucket/path/"}` and whose other elements are object keys relative to that prefix (the
transform's input objects, resp. its `.out` objects). What is analysed are the objects the manifests name.

Locally (the job's view), the objects a manifest names are found under `<dataset source>/_manifest_objects/
<bucket>/<key>` (`OBJECTS_FOLDER`; a folder starting with `_` is never listed as data itself). A data-quality
job analyses the objects of the `input/` manifests (what the model received), or of the `output/` manifests when
there are no input ones. With a window, a manifest is followed when its hour folder overlaps [start, end).
When any manifest is present, files that are not manifests are not analysed; they, and named objects that
were not staged, are counted and named. Objects that are not in the dataset's format are counted and named.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import orjson

from watchkeeper.capture.hours import hour_in_path
from watchkeeper.capture.window import hour_overlaps
from watchkeeper.storage.base import parse_s3_uri

OBJECTS_FOLDER = "_manifest_objects"
MAX_MANIFEST_BYTES = 64 << 20  # a manifest of a million keys is about this size
SNIFF_BYTES = 64 << 10
MAX_NAMED = 5  # objects named in a message; the rest are counted
FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "parquet": "Parquet"}


@dataclass(frozen=True)
class Manifest:
    """One batch-capture manifest: where it is, its prefix and keys, its side and capture hour."""

    path: Path
    prefix: str
    keys: tuple[str, ...]
    side: str | None  # "input" | "output" | None (from the folder above its hour folder)
    hour: datetime | None

    def uris(self) -> list[str]:
        return manifest_uris(self.prefix, self.keys)


def manifest_uris(prefix: str, keys: Sequence[str]) -> list[str]:
    """The URIs a manifest names: keys relative to the prefix (as a folder); an empty key is the prefix itself,
    as in AWS's manifest of a transform over one object, `[{"prefix": "s3://b/data/test.csv"}, ""]`."""
    base = prefix if prefix.endswith("/") else prefix + "/"
    return [base + key.lstrip("/") if key else prefix for key in keys]


def parse_manifest(data: bytes) -> tuple[str, tuple[str, ...]] | None:
    """(prefix, keys) of a manifest's bytes, or None when they are not a manifest."""
    head = data.lstrip()
    if not head.startswith(b"[") or len(data) > MAX_MANIFEST_BYTES:
        return None
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    if not value or not isinstance(value[0], dict) or not isinstance(value[0].get("prefix"), str):
        return None
    prefix, keys = value[0]["prefix"], value[1:]
    if not prefix.startswith("s3://") or not all(isinstance(key, str) for key in keys):
        return None
    return prefix, tuple(keys)


def read_manifest(path: Path, root: Path) -> Manifest | None:
    try:
        with open(path, "rb") as handle:
            if handle.read(64).lstrip()[:1] != b"[":
                return None
        parsed = parse_manifest(path.read_bytes())
    except OSError:
        return None
    if parsed is None:
        return None
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()
    parts = relative.split("/")
    side = next((parts[i] for i in range(len(parts) - 5, -1, -1) if parts[i] in ("input", "output")), None)
    return Manifest(path, parsed[0], parsed[1], side, hour_in_path(relative))


def list_data_files(source: str | os.PathLike[str]) -> list[Path]:
    """A file, or every file under a folder in path order; hidden files, Spark/Hadoop markers (`_SUCCESS`)
    and folders starting with `_` or `.` left out."""
    root = Path(source)
    if root.is_file():
        return [root]
    if not root.is_dir():
        return []
    return sorted(path for path in root.rglob("*")
                  if path.is_file() and not any(part.startswith((".", "_")) for part in path.relative_to(root).parts))


@dataclass
class Selection:
    """What to analyse: `files` (paths) with the name each is reported under; what was left out and why."""

    files: list[Path]
    names: dict[Path, str] = field(default_factory=dict)
    manifests: int = 0
    outside_window: int = 0  # manifests whose hour folder is outside the window
    not_manifests: list[str] = field(default_factory=list)  # other files beside manifests
    not_staged: list[str] = field(default_factory=list)  # URIs named by manifests, not found locally
    not_in_format: list[tuple[str, str]] = field(default_factory=list)  # (name, what it is)

    def name(self, path: Path) -> str:
        return self.names.get(path, path.name)

    def notes(self, kind: str, where: str) -> list[str]:
        """Sentences for the job's summary about what was left out (empty when nothing was)."""
        notes = []
        if self.not_in_format:
            what = FORMAT_NAMES.get(kind, kind)
            notes.append(f"{_count(len(self.not_in_format), 'object')} under {where} "
                         f"{'is' if len(self.not_in_format) == 1 else 'are'} not {what}: "
                         f"{_names(f'{n} ({why})' for n, why in self.not_in_format)}.")
        if self.not_staged:
            notes.append(f"{_count(len(self.not_staged), 'object')} named by batch-capture manifests "
                         f"{'was' if len(self.not_staged) == 1 else 'were'} not staged: {_names(self.not_staged)}.")
        if self.not_manifests:
            notes.append(f"{_count(len(self.not_manifests), 'file')} beside the batch-capture manifests "
                         f"{'is' if len(self.not_manifests) == 1 else 'are'} not a manifest and "
                         f"{'was' if len(self.not_manifests) == 1 else 'were'} not analysed: "
                         f"{_names(self.not_manifests)}.")
        return notes


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _names(names: Sequence[str] | object) -> str:
    items = list(names)  # type: ignore[call-overload]
    shown = ", ".join(items[:MAX_NAMED])
    return shown + (f" and {len(items) - MAX_NAMED} more" if len(items) > MAX_NAMED else "")


def select_inputs(source: str | os.PathLike[str], kind: str, *, start: datetime | None = None,
                  end: datetime | None = None, sides: Sequence[str] = ("input", "output"),
                  objects_root: str | os.PathLike[str] | None = None) -> Selection:
    """The files of a dataset source to analyse: batch-capture manifests followed (the first side of `sides`
    that has manifests), then every file checked against the dataset's format (`kind`: csv, json, parquet)."""
    root = Path(source)
    files = list_data_files(root)
    base = root if root.is_dir() else root.parent
    selection = Selection(files, {path: path.relative_to(base).as_posix() for path in files})
    manifests = [m for m in (read_manifest(path, base) for path in files) if m is not None]
    if manifests:
        selection = _follow(manifests, files, base, Path(objects_root) if objects_root else base / OBJECTS_FOLDER,
                            start, end, sides)
    kept = []
    for path in selection.files:
        problem = format_problem(path, kind)
        if problem:
            selection.not_in_format.append((selection.name(path), problem))
        else:
            kept.append(path)
    selection.files = kept
    return selection


def _follow(manifests: list[Manifest], files: list[Path], base: Path, objects: Path, start: datetime | None,
            end: datetime | None, sides: Sequence[str]) -> Selection:
    paths = {m.path for m in manifests}
    selection = Selection([], manifests=len(manifests),
                          not_manifests=[p.relative_to(base).as_posix() for p in files if p not in paths])
    in_window = []
    for manifest in manifests:
        if manifest.hour is not None and not hour_overlaps(manifest.hour, start, end):
            selection.outside_window += 1
        else:
            in_window.append(manifest)
    chosen = next((side for side in sides if any(m.side == side for m in in_window)), None)
    seen: set[str] = set()
    for manifest in in_window:
        if manifest.side not in (chosen, None) and chosen is not None:
            continue
        for uri in manifest.uris():
            if uri in seen:
                continue
            seen.add(uri)
            local = locate(uri, objects)
            if local is None:
                selection.not_staged.append(uri)
            else:
                selection.files.append(local)
                selection.names[local] = uri
    return selection


def locate(uri: str, objects: Path) -> Path | None:
    """Where a named object is staged: `<objects>/<bucket>/<key>`; None when absent or the key would leave
    that folder."""
    try:
        bucket, key = parse_s3_uri(uri)
    except Exception:
        return None
    parts = [bucket, *key.split("/")]
    if not key or any(part in ("", ".", "..") for part in parts):
        return None
    path = objects.joinpath(*parts)
    return path if path.is_file() else None


def format_problem(path: Path, kind: str) -> str | None:
    """What a file is when it is not in the dataset's format (`binary`, `JSON`, `not UTF-8 text`, ...),
    from its first bytes; None when it looks like the format (or the format is not checked)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as error:
        return f"cannot be read: {error.strerror or error}"
    if kind == "parquet":
        return None if head.startswith(b"PAR1") or not head else "not a Parquet file"
    if kind not in ("csv", "json"):
        return None
    if b"\x00" in head:
        return "binary"
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 3:  # not just a character cut at the end of the sniffed part
            return "binary" if _mostly_binary(head) else "not UTF-8 text"
        text = head[: error.start].decode("utf-8")
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if not first:
        return None
    if kind == "json":  # a JSON document may span many lines: its first character has to do
        return None if first[0] in "{[" else "not JSON"
    looks_json = first[0] in "{[" and (_is_json(first) or (len(head) < SNIFF_BYTES and _is_json(text)))
    return "JSON" if looks_json else None


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def _mostly_binary(head: bytes) -> bool:
    printable = sum(32 <= b < 127 or b in (9, 10, 13) for b in head[:4096])
    return printable < 0.7 * min(len(head), 4096)
