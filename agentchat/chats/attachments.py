"""Files that agents send: the allowed types, and decoding and checking the base64 of SendMessage."""

import base64
import binascii
from dataclasses import dataclass

from agentchat.contract import Invalid, TooLarge


@dataclass
class NewFile:
    name: str
    type: str
    content: bytes


# What WhatsApp and the web chat can carry; anything else is refused before it is stored.
ALLOWED_FILE_TYPES = frozenset({
    "image/jpeg", "image/png", "image/webp",
    "application/pdf", "text/plain",
    "audio/ogg", "audio/mpeg", "audio/aac", "audio/mp4",
    "video/mp4", "video/3gpp",
    "application/msword", "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint", "application/vnd.openxmlformats-officedocument.presentationml.presentation",
})


def decode_file(*, file_name: str | None, file_type: str | None, content: str | None,
                max_bytes: int) -> NewFile | None:
    """The file of a SendMessage, checked: all three parts, an allowed type, valid base64, not too large."""
    parts = {"FileName": file_name, "FileType": file_type, "FileContent": content}
    if all(value is None for value in parts.values()):
        return None
    if not (file_name and file_type and content):
        name = next(name for name, value in parts.items() if not value)
        raise Invalid(f"{name} is required when sending a file.", code="missing_field", field=name)
    # Parameters such as "; codecs=opus" are dropped: the type alone decides.
    media_type = file_type.split(";", 1)[0].strip().lower()
    if media_type not in ALLOWED_FILE_TYPES:
        raise Invalid(f"Files of type {media_type[:127]} cannot be sent; allowed are: "
                      f"{', '.join(sorted(ALLOWED_FILE_TYPES))}.", code="file_type_not_allowed", field="FileType")
    compact = "".join(content.split())  # line breaks of MIME-style base64 are harmless
    if len(compact) // 4 * 3 - 2 > max_bytes:
        raise _file_too_large(max_bytes)
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Invalid("FileContent is not valid base64.", code="invalid_base64", field="FileContent") from exc
    if len(data) > max_bytes:
        raise _file_too_large(max_bytes)
    if not data:
        raise Invalid("The file is empty.", code="empty_file", field="FileContent")
    return NewFile(name=file_name, type=media_type, content=data)


def _file_too_large(max_bytes: int) -> TooLarge:
    return TooLarge(f"The file is larger than the {max_bytes} bytes allowed.", code="file_too_large",
                    field="FileContent")
