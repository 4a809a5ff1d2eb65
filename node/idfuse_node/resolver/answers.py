"""A rendered answer (status, headers, JSON bytes), and errors rendered as answers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from idfuse_node.jsonbytes import dumps
from idfuse_node.resolver.errors import ResolverHTTPError

JSON: Final = "application/json"


@dataclass(frozen=True, slots=True)
class Answer:
    """What the resolver sends: a status, extra headers and a JSON body."""

    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    media_type: str = JSON

    @classmethod
    def of(cls, status: int, document: Any, headers: dict[str, str] | None = None) -> Answer:
        return cls(status, dumps(document), headers or {})


def error_answer(error: ResolverHTTPError, path_and_query: str) -> Answer:
    """An error as JSON, with ``Location`` for a referral."""
    headers = dict(error.headers)
    location = error.location(path_and_query)
    if location is not None:
        headers["location"] = location
    return Answer.of(error.status, error.body(), headers)
