"""Which objects a batch-monitoring execution must stage: those named by the window's batch-capture manifests.

A transform job with capture writes only manifests under `<destination>/input|output/yyyy/mm/dd/hh/`; the data
they name lives wherever the transform read and wrote it. The execution lists the manifests of its window's
hours in the object store, and each distinct folder of the named objects becomes one input staged at
`<LocalPath>/_manifest_objects/<bucket>/<folder key>`, where the reader (`capture/batch.py`) looks for them.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable

from watchkeeper.capture.batch import MAX_MANIFEST_BYTES, OBJECTS_FOLDER, manifest_uris, parse_manifest
from watchkeeper.capture.hours import hour_path
from watchkeeper.storage.base import ObjectStore, StorageError, join_uri, parse_s3_uri

SIDES = ("input", "output")
MAX_STAGED_FOLDERS = 100  # one ProcessingInput each; a window naming more is refused with a reason


class TooManyFolders(ValueError):
    """The window's manifests name objects in more folders than one execution stages."""


def manifest_objects(store: ObjectStore, destination: str, hours: Iterable[float]) -> list[str]:
    """The URIs the manifests of these capture hours name, in manifest order, each once. Objects that are
    not manifests are skipped here (the reader names them); an unreadable listing is an empty one."""
    named: dict[str, None] = {}
    for hour in hours:
        for side in SIDES:
            try:
                infos = list(store.list(join_uri(destination, side, hour_path(hour)) + "/"))
            except StorageError:
                continue
            for info in infos:
                if info.size > MAX_MANIFEST_BYTES:
                    continue
                try:
                    parsed = parse_manifest(store.get_bytes(info.uri))
                except StorageError:
                    continue
                if parsed is None:
                    continue
                for uri in manifest_uris(*parsed):
                    named[uri] = None
    return list(named)


def staged_folders(uris: Iterable[str], local_root: str) -> list[tuple[str, str]]:
    """(folder URI, local path) for each distinct folder of the named objects, in first-seen order."""
    folders: dict[str, str] = {}
    for uri in uris:
        location = parse_s3_uri(uri)
        folder_key = posixpath.dirname(location.key)
        folder_uri = f"s3://{location.bucket}/{folder_key}/" if folder_key else f"s3://{location.bucket}/"
        if folder_uri not in folders:
            folders[folder_uri] = posixpath.join(local_root, OBJECTS_FOLDER, location.bucket, folder_key)
    if len(folders) > MAX_STAGED_FOLDERS:
        raise TooManyFolders(
            f"The batch-capture manifests of this window name objects in {len(folders)} folders; an execution "
            f"stages at most {MAX_STAGED_FOLDERS}. Use a shorter window (DataAnalysisStartTime/EndTime)."
        )
    return list(folders.items())
