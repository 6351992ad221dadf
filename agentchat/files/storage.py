"""Where message attachments live. Local folder by default; the interface is what other stores implement
(files/s3.py: S3-compatible object storage, for instances on several machines)."""

import os
import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from anyio import to_thread

if TYPE_CHECKING:
    from agentchat.config import Settings

_HEX_KEY = re.compile(r"^[0-9a-f]{32}")


@dataclass
class Download:
    """A stored file being read: its size when known, its bytes a piece at a time, and how to let go early."""

    size: int | None
    chunks: AsyncIterator[bytes]
    close: Callable[[], Awaitable[None]]


class FileStorage(Protocol):
    async def start(self) -> None:
        """Connect (in the app's lifespan: nothing connects at import or construction)."""

    async def close(self) -> None: ...

    async def save(self, content: bytes, *, file_name: str) -> str:
        """Store the bytes; returns the key to read them back with."""

    async def read(self, key: str) -> bytes:
        """The whole file (FileNotFoundError when there is none); for senders that need it all at once."""

    async def open(self, key: str) -> Download:
        """The file to stream (FileNotFoundError when there is none, raised before any byte is sent)."""

    async def download_url(self, key: str, *, file_type: str, disposition: str) -> str | None:
        """A short-lived URL a client may fetch the file from directly, or None to stream it through us."""

    async def delete(self, key: str) -> None:
        """Remove the file; a key already gone is not an error (another instance may have removed it)."""

    def stored_before(self, cutoff: float) -> AsyncIterator[list[str]]:
        """Keys of the files written before `cutoff` (a POSIX time), a batch at a time."""


def new_key(file_name: str) -> str:
    """A random key, keeping a short alphanumeric suffix of the client's name (never the name itself)."""
    suffix = Path(file_name).suffix.lower()
    if not suffix[1:].isalnum() or len(suffix) > 10:
        suffix = ""
    return secrets.token_hex(16) + suffix


def check_key(key: str) -> str:
    if not key or "/" in key or "\\" in key or key.startswith("."):
        raise ValueError("bad storage key")
    return key


def is_stored_key(key: str) -> bool:
    """Whether a name found in a store is one new_key() made (anything else there is not ours to judge)."""
    return bool(_HEX_KEY.match(key)) and not key.startswith(".") and "/" not in key and "\\" not in key


def create_file_storage(settings: "Settings") -> FileStorage:
    """The store AGENTCHAT_FILE_STORAGE names: s3://bucket/prefix, or (unset) the data folder's files/."""
    if not settings.file_storage:
        return LocalFileStorage(settings.files_dir)
    from agentchat.files.s3 import S3FileStorage

    bucket, _, prefix = settings.file_storage.removeprefix("s3://").partition("/")
    return S3FileStorage(bucket=bucket, prefix=prefix, endpoint_url=settings.s3_endpoint_url,
                         region=settings.s3_region, access_key_id=settings.s3_access_key_id,
                         secret_access_key=settings.s3_secret_access_key,
                         addressing_style=settings.s3_addressing_style, presign_seconds=settings.s3_presign_seconds)


class LocalFileStorage:
    """Files under one folder, named by random keys (never by the client's file name)."""

    def __init__(self, root: Path):
        self.root = root

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)[:2] / key

    async def save(self, content: bytes, *, file_name: str) -> str:
        key = new_key(file_name)
        path = self._path(key)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)

        await to_thread.run_sync(write)
        return key

    async def read(self, key: str) -> bytes:
        return await to_thread.run_sync(self._path(key).read_bytes)

    async def open(self, key: str) -> Download:
        # One read in a worker thread: a local file is at most max_file_bytes, and a thread hop per piece would
        # cost more than it saves.
        content = await self.read(key)

        async def chunks() -> AsyncIterator[bytes]:
            yield content

        async def close() -> None:
            pass

        return Download(size=len(content), chunks=chunks(), close=close)

    async def download_url(self, key: str, *, file_type: str, disposition: str) -> str | None:
        return None

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
