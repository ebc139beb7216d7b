"""Zipped sources, unpacked safely: no paths out of the folder, no links, no zip bombs."""

from __future__ import annotations

import shutil
import stat
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from app.importers.report import ImportFailed

_CHUNK = 1 << 20


def extract_zip(archive: Path, destination: Path, *, max_bytes: int) -> list[Path]:
    """Unpack ``archive`` into ``destination`` and return the files. Refuses entries with absolute
    paths or ``..``, symbolic links, and archives whose contents exceed ``max_bytes`` — checked from
    the directory before anything is unpacked, and again on the bytes actually written."""
    name = archive.name
    try:
        zipped = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as error:
        raise ImportFailed(f"{name} is not a readable zip file ({error}).") from error
    with zipped:
        entries = zipped.infolist()
        declared = 0
        for entry in entries:
            path = PurePosixPath(entry.filename.replace("\\", "/"))
            if path.is_absolute() or ".." in path.parts or (path.parts and path.parts[0].endswith(":")):
                raise ImportFailed(f"{name} contains an unsafe path {entry.filename!r} (absolute or with '..'); "
                                   "it was not unpacked.")
            if stat.S_ISLNK(entry.external_attr >> 16):
                raise ImportFailed(f"{name} contains a symbolic link {entry.filename!r}; it was not unpacked.")
            declared += entry.file_size
        if declared > max_bytes:
            raise ImportFailed(f"{name} would expand to {declared / 1e6:,.0f} MB, over the limit of "
                               f"{max_bytes / 1e6:,.0f} MB; it was not unpacked.")
        destination.mkdir(parents=True, exist_ok=True)
        written = 0
        files: list[Path] = []
        try:
            for entry in entries:
                if entry.is_dir():
                    continue
                target = destination / PurePosixPath(entry.filename.replace("\\", "/"))
                target.parent.mkdir(parents=True, exist_ok=True)
                with zipped.open(entry) as source, target.open("wb") as out:
                    while chunk := source.read(_CHUNK):
                        written += len(chunk)
                        if written > max_bytes:  # the directory understated the sizes
                            raise ImportFailed(f"{name} expands past the limit of {max_bytes / 1e6:,.0f} MB; "
                                               "it was not unpacked.")
                        out.write(chunk)
                files.append(target)
        except (zipfile.BadZipFile, zlib.error, EOFError) as error:
            shutil.rmtree(destination, ignore_errors=True)
            raise ImportFailed(f"{name} is damaged ({error}); it was not unpacked.") from error
        except ImportFailed:
            shutil.rmtree(destination, ignore_errors=True)
            raise
    return files
