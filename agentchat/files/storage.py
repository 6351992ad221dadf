"""Where message attachments live. Local folder by default; the interface is what other stores implement."""

import secrets
from pathlib import Path
from typing import Protocol

from anyio import to_thread


class FileStorage(Protocol):
    async def save(self, content: bytes, *, file_name: str) -> str:
        """Store the bytes; returns the key to read them back with."""

    async def read(self, key: str) -> bytes: ...

    async def delete(self, key: str) -> None: ...


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
