"""Where message attachments live. Local folder by default; the interface is what other stores implement."""

import os
import secrets
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Protocol

from anyio import to_thread


class FileStorage(Protocol):
    async def save(self, content: bytes, *, file_name: str) -> str:
        """Store the bytes; returns the key to read them back with."""

    async def read(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None:
        """Remove the file; a key already gone is not an error (another instance may have removed it)."""

    def stored_before(self, cutoff: float) -> AsyncIterator[list[str]]:
        """Keys of the files written before `cutoff` (a POSIX time), a batch at a time."""


class LocalFileStorage:
    """Files under one folder, named by random keys (never by the client's file name)."""

    def __init__(self, root: Path):
        self.root = root

    def _path(self, key: str) -> Path:
        if not key or "/" in key or "\\" in key or key.startswith("."):
            raise ValueError("bad storage key")
        return self.root / key[:2] / key

    async def save(self, content: bytes, *, file_name: str) -> str:
        suffix = Path(file_name).suffix.lower()
        if not suffix[1:].isalnum() or len(suffix) > 10:
            suffix = ""
        key = secrets.token_hex(16) + suffix
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)

        await to_thread.run_sync(write)
        return key

    async def read(self, key: str) -> bytes:
        return await to_thread.run_sync(self._path(key).read_bytes)

    async def delete(self, key: str) -> None:
        await to_thread.run_sync(lambda: self._path(key).unlink(missing_ok=True))

    async def stored_before(self, cutoff: float) -> AsyncIterator[list[str]]:
        # One folder at a time (key[:2]: at most 256 of them), so memory follows a folder, not the whole store.
        folders = await to_thread.run_sync(self._folders)
        for folder in folders:
            keys = await to_thread.run_sync(self._keys_written_before, folder, cutoff)
            if keys:
                yield keys

    def _folders(self) -> list[Path]:
        try:
            return [Path(entry.path) for entry in os.scandir(self.root) if entry.is_dir(follow_symlinks=False)]
        except FileNotFoundError:
            return []  # nothing stored yet

    @staticmethod
    def _keys_written_before(folder: Path, cutoff: float) -> list[str]:
        keys = []
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    # Only names save() gives (key[:2]/key); anything else in the folder is not ours to judge.
                    if entry.name[:2] != folder.name or entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < cutoff:
                            keys.append(entry.name)
                    except FileNotFoundError:
                        continue  # removed since the folder was listed (another instance's sweep, an erasure)
        except FileNotFoundError:
            pass
        return keys
