"""Message files in S3-compatible object storage (AWS S3, MinIO, Ceph, R2 …), so that every instance on every
machine serves every file. Chosen by AGENTCHAT_FILE_STORAGE=s3://bucket/prefix; docs/deployment.md says why
aiobotocore is the client.
"""

import contextlib
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from agentchat.files.storage import Download, check_key, is_stored_key, new_key

CHUNK = 256 * 1024  # a download's piece: memory per download stays at about this, whatever the file's size


class S3FileStorage:
    """Objects named `prefix/key`, keys as the local store makes them (random, never the client's file name)."""

    def __init__(self, *, bucket: str, prefix: str, endpoint_url: str | None, region: str,
                 access_key_id: str | None, secret_access_key: str | None, addressing_style: str,
                 presign_seconds: int):
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.presign_seconds = presign_seconds
        self._client_args = dict(endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
                                 aws_secret_access_key=secret_access_key)
        self._addressing_style = addressing_style
        self._stack: contextlib.AsyncExitStack | None = None
        self._client: Any = None  # aiobotocore's S3 client: the library has no type information

    async def start(self) -> None:
        # Imported here: only a deployment that chose S3 pays for botocore's import (~0.3 s, ~40 MB).
        from aiobotocore.config import AioConfig
        from aiobotocore.session import get_session

        # SigV4 for presigned URLs too (botocore would sign them with the deprecated V2 in some regions).
        config = AioConfig(s3={"addressing_style": self._addressing_style}, signature_version="s3v4",
                           retries={"mode": "standard"},
                           connect_timeout=5, read_timeout=30, max_pool_connections=32)
        self._stack = contextlib.AsyncExitStack()
        self._client = await self._stack.enter_async_context(
            get_session().create_client("s3", config=config, **self._client_args))

    async def close(self) -> None:
        if self._stack is not None:
            await self._stack.aclose()
            self._stack = self._client = None

    def _name(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    async def save(self, content: bytes, *, file_name: str) -> str:
        key = new_key(file_name)
        # One PUT of the decoded bytes as they are: aiohttp writes them to the socket, no copy is made.
        await self._client.put_object(Bucket=self.bucket, Key=self._name(key), Body=content)
        return key

    async def read(self, key: str) -> bytes:
        download = await self.open(key)
        try:
            return b"".join([chunk async for chunk in download.chunks])
        finally:
            await download.close()

    async def open(self, key: str) -> Download:
        try:
            answer = await self._client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self._client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(key) from exc
        body = answer["Body"]

        async def close() -> None:
            body.close()

        return Download(size=answer.get("ContentLength"), chunks=body.iter_chunks(CHUNK), close=close)

    async def download_url(self, key: str, *, file_type: str, disposition: str) -> str | None:
        """A presigned GET, valid presign_seconds, answered by the store with our name, type and headers."""
        if not self.presign_seconds:
            return None
        return await self._client.generate_presigned_url("get_object", ExpiresIn=self.presign_seconds, Params={
            "Bucket": self.bucket, "Key": self._name(key), "ResponseContentType": file_type,
            "ResponseContentDisposition": disposition, "ResponseCacheControl": "private, no-store"})

    async def delete(self, key: str) -> None:
        # S3 answers 204 for a key that is not there: another instance's removal is no error.
        await self._client.delete_object(Bucket=self.bucket, Key=self._name(key))

    async def stored_before(self, cutoff: float) -> AsyncIterator[list[str]]:
        start = f"{self.prefix}/" if self.prefix else ""
        paginator = self._client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.bucket, Prefix=start):
            keys = [item["Key"][len(start):] for item in page.get("Contents", ())
                    if _written_before(item["LastModified"], cutoff)]
            # Only names save() gives; anything else under the prefix is not ours to judge.
            keys = [key for key in keys if is_stored_key(key)]
            if keys:
                yield keys


def _written_before(modified: datetime, cutoff: float) -> bool:
    return modified.timestamp() < cutoff

