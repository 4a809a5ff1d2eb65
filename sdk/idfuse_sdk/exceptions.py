"""The SDK's exception hierarchy: every error the SDK raises derives from IdfuseError."""

from __future__ import annotations


class IdfuseError(Exception):
    """Root of every idfuse SDK error; catch this to handle them all."""


class ValidationError(IdfuseError, ValueError):
    """An input breaks a rule of docs/data-model.md (a prefix, suffix, value, template or
    batch). The message names the input and the rule; fix the input and retry."""


class EncodingError(IdfuseError, ValueError):
    """Bytes are not a canonical encoding (truncated, trailing bytes, out of order). Raised
    when decoding values or batch records read from the chain or an untrusted source."""


class ArtifactNotFoundError(IdfuseError, LookupError):
    """A compiled contract is not shipped with this package; reinstall idfuse."""
