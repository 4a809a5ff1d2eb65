"""Handle protocol response codes the resolver answers with, and their HTTP statuses.

The codes are the Handle protocol's (HANDLE.NET Technical Manual, JSON REST API: "Many
response entities include a responseCode"); the statuses are the ones that manual pairs
them with, plus the resolver's own for referrals and recursion (docs/resolver.md).
"""

from __future__ import annotations

from typing import Final

RC_SUCCESS: Final = 1
RC_ERROR: Final = 2
RC_SERVER_TOO_BUSY: Final = 3
RC_PROTOCOL_ERROR: Final = 4
RC_OPERATION_NOT_SUPPORTED: Final = 5
RC_RECURSION_COUNT_TOO_HIGH: Final = 6
RC_HANDLE_NOT_FOUND: Final = 100
RC_INVALID_HANDLE: Final = 102
RC_VALUES_NOT_FOUND: Final = 200
RC_SERVER_NOT_RESP: Final = 301
RC_SERVICE_REFERRAL: Final = 302
RC_AUTHENTICATION_NEEDED: Final = 402
