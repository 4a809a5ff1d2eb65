"""The node's data directory: every path in one place, its accounts, and ``endpoints.json``.

Layout of ``DIR`` (created ``0700``; every secret ``0600``)::

    DIR/
      chain/                      LevelDB: blocks, receipts, state (ledger)
      index/                      LevelDB: the identifier index (indexer)
      genesis.json                the chain's genesis
      validator.keystore.json     the validator's sealing key, encrypted (v3 keystore)
      validator.password          its password
      dev-account.keystore.json   the funded, allowlisted development account, encrypted
      dev-account.password        its password
      endpoints.json              where clients find the node (see :class:`Endpoints`)
      endpoints.json.lock         serialises writers of endpoints.json

No other module builds a path inside ``DIR``: they ask :class:`DataDir`.

``endpoints.json`` is written by several parts of the node (the ledger writes the RPC URL,
chain id, contracts and development account; the resolver adds its URL), so it is only ever
changed through :func:`update_endpoints`, which merges under a lock and replaces the file
atomically: a reader sees the old file or the new one, never half of one.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypedDict, Unpack, cast
from urllib.parse import urlsplit

from eth_account.signers.local import LocalAccount
from eth_utils.address import is_checksum_address

from idfuse_node.exceptions import EndpointsError, EndpointsNotFoundError
from idfuse_sdk import nodefinder
from idfuse_sdk.exceptions import KeystoreExistsError
from idfuse_sdk.keystore import (
    DEFAULT_KDF,
    SECRET_FILE_MODE,
    KeyDerivation,
    create_keystore,
    ensure_private_dir,
    load_key,
    read_password_file,
    write_secret_file,
)

__all__ = [
    "ENDPOINTS_FILE",
    "DataDir",
    "DevAccountEndpoint",
    "Endpoints",
    "create_account",
    "default_data_dir",
    "new_password",
    "read_endpoints",
    "update_endpoints",
]

ENDPOINTS_FILE: Final = "endpoints.json"
_HEX_ADDRESS: Final = re.compile(r"0x[0-9a-fA-F]{40}")


def default_data_dir() -> Path:
    """The per-user data directory of ``idfuse node start``: ``$IDFUSE_DATA_DIR`` when set,
    else ``$XDG_DATA_HOME/idfuse/node`` (``~/.local/share/idfuse/node`` by default). The rule
    lives in :func:`idfuse_sdk.nodefinder.default_data_dir`, which client commands share."""
    return nodefinder.default_data_dir()


def new_password() -> str:
    """A fresh password for a node-generated keystore: 256 random bits, URL-safe text."""
    return secrets.token_urlsafe(32)


def create_account(
    keystore: Path,
    password_file: Path,
    private_key: str | bytes | None = None,
    *,
    kdf: KeyDerivation = DEFAULT_KDF,
    iterations: int | None = None,
) -> str:
    """Create an encrypted keystore with a fresh random password stored beside it.

    The password file (``0600``) is written first, then the keystore (``0600``); if the
    keystore cannot be written the password file is removed again. Returns the address.

    :param private_key: the key to store; a fresh random key when omitted.
    :raises KeystoreExistsError: either file already exists; nothing is written.
    :raises PrivateKeyError: ``private_key`` is not a valid secp256k1 secret.
    :raises OSError: a file could not be written.
    """
    for path in (keystore, password_file):
        if os.path.lexists(path):
            raise KeystoreExistsError(f"{path} already exists; refusing to overwrite it")
    password = new_password()
    write_secret_file(password_file, password + "\n")
    try:
        return create_keystore(keystore, password, private_key, kdf=kdf, iterations=iterations)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(password_file)
        raise


class DevAccountEndpoint(TypedDict):
    """The development account as ``endpoints.json`` names it: absolute paths to its files."""

    address: str
    keystore: str
    password_file: str


class Endpoints(TypedDict, total=False):
    """The content of ``endpoints.json``. Every field is optional: each part of the node adds
    its own. Fields this version does not know are kept as they are."""

    rpc_url: str
    chain_id: int
    contracts: dict[str, str]
    dev_account: DevAccountEndpoint
    resolver_url: str


@dataclass(frozen=True)
class DataDir:
    """A node's data directory. ``root`` is made absolute, so every path below is too."""

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root).expanduser().absolute())

    @property
    def chain_db(self) -> Path:
        """The ledger's LevelDB directory."""
        return self.root / "chain"

    @property
    def index_db(self) -> Path:
        """The indexer's LevelDB directory."""
        return self.root / "index"

    @property
    def genesis(self) -> Path:
        """The genesis file."""
        return self.root / "genesis.json"

    @property
    def validator_keystore(self) -> Path:
        """The validator's encrypted sealing key."""
        return self.root / "validator.keystore.json"

    @property
    def validator_password_file(self) -> Path:
        """The password of :attr:`validator_keystore`."""
        return self.root / "validator.password"

    @property
    def dev_keystore(self) -> Path:
        """The development account's encrypted key."""
        return self.root / "dev-account.keystore.json"

    @property
    def dev_password_file(self) -> Path:
        """The password of :attr:`dev_keystore`."""
        return self.root / "dev-account.password"

    @property
    def endpoints(self) -> Path:
        """``endpoints.json``: where clients find this node."""
        return self.root / ENDPOINTS_FILE

    def ensure(self) -> Path:
        """Create the directory (and missing parents) with mode ``0700``; return it.

        An existing directory keeps its mode.

        :raises NotADirectoryError: ``root`` or a parent is a file.
        :raises OSError: it could not be created.
        """
        return ensure_private_dir(self.root)

    def is_empty(self) -> bool:
        """Whether the directory is missing or has nothing in it (so may be initialised)."""
        try:
            with os.scandir(self.root) as entries:
                return next(entries, None) is None
        except FileNotFoundError:
            return True

    def create_validator_account(
        self,
        private_key: str | bytes | None = None,
        *,
        kdf: KeyDerivation = DEFAULT_KDF,
        iterations: int | None = None,
    ) -> str:
        """Create the validator's keystore and password file; see :func:`create_account`."""
        self.ensure()
        return create_account(
            self.validator_keystore,
            self.validator_password_file,
            private_key,
            kdf=kdf,
            iterations=iterations,
        )

    def create_dev_account(
        self,
        private_key: str | bytes | None = None,
        *,
        kdf: KeyDerivation = DEFAULT_KDF,
        iterations: int | None = None,
    ) -> str:
        """Create the development account's keystore and password file; see
        :func:`create_account`."""
        self.ensure()
        return create_account(
            self.dev_keystore, self.dev_password_file, private_key, kdf=kdf, iterations=iterations
        )

    def load_validator_account(self) -> LocalAccount:
        """Decrypt the validator's key with its password file.

        :raises KeystoreError: a file is missing or damaged, or the password is wrong.
        """
        return load_key(self.validator_keystore, read_password_file(self.validator_password_file))

    def load_dev_account(self) -> LocalAccount:
        """Decrypt the development account's key with its password file.

        :raises KeystoreError: a file is missing or damaged, or the password is wrong.
        """
        return load_key(self.dev_keystore, read_password_file(self.dev_password_file))

    def dev_account_endpoint(self, address: str) -> DevAccountEndpoint:
        """The ``dev_account`` entry of ``endpoints.json`` for the account at ``address``."""
        return DevAccountEndpoint(
            address=address,
            keystore=str(self.dev_keystore),
            password_file=str(self.dev_password_file),
        )


def read_endpoints(path: Path) -> Endpoints:
    """Read and check ``endpoints.json``.

    :raises EndpointsNotFoundError: the file does not exist (the node has not started).
    :raises EndpointsError: the file is not JSON, not an object, or a field has the wrong type;
        the error's ``path`` and ``field`` say which.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise EndpointsNotFoundError(f"no {ENDPOINTS_FILE} at {path}: has the node been started?") from None
    except UnicodeDecodeError:
        raise EndpointsError(str(path), None, "is not UTF-8 text") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise EndpointsError(
            str(path), None, f"is not valid JSON (line {error.lineno}, column {error.colno})"
        ) from None
    if not isinstance(data, dict):
        raise EndpointsError(str(path), None, "is not a JSON object")
    _check_fields(data, str(path))
    return cast(Endpoints, data)


def update_endpoints(path: Path, **fields: Unpack[Endpoints]) -> Endpoints:
    """Merge ``fields`` into ``endpoints.json`` and return the whole new content.

    Each given field replaces that field as a whole (``contracts`` too); other fields, known
    or not, are kept. The file is created if missing. Writers are serialised by an exclusive
    lock on ``endpoints.json.lock``, and the file is replaced atomically (temporary file,
    fsync, rename, fsync of the directory), so a crash leaves the old file or the new one.

    :raises EndpointsError: a field is unknown or has the wrong type (nothing is written), or
        the existing file is malformed.
    :raises OSError: the file could not be written.
    """
    path = Path(path)
    _check_fields(fields, "update_endpoints()", unknown_allowed=False)
    ensure_private_dir(path.parent)
    with _locked(path):
        try:
            current: dict[str, Any] = dict(read_endpoints(path))
        except EndpointsNotFoundError:
            current = {}
        current.update(fields)
        write_secret_file(path, json.dumps(current, indent=2, sort_keys=True) + "\n", overwrite=True)
    return cast(Endpoints, current)


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock that every writer of ``path`` takes first (across processes)."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, SECRET_FILE_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _check_fields(data: Mapping[str, Any], where: str, *, unknown_allowed: bool = True) -> None:
    """Check every known field of an endpoints object; raise EndpointsError naming the first bad
    one. Unknown fields pass when reading (a newer node may have written them)."""
    for name, value in data.items():
        checker = _CHECKERS.get(name)
        if checker is None:
            if not unknown_allowed:
                raise EndpointsError(where, name, "is not a field of endpoints.json")
            continue
        checker(value, where, name)


def _check_url(value: Any, where: str, field: str) -> None:
    if not isinstance(value, str):
        raise EndpointsError(where, field, f"must be a URL string, not {type(value).__name__}")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise EndpointsError(where, field, "must be an http:// or https:// URL with a host")


def _check_chain_id(value: Any, where: str, field: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise EndpointsError(where, field, "must be a positive integer")


def _check_address(value: Any, where: str, field: str) -> None:
    if not isinstance(value, str) or _HEX_ADDRESS.fullmatch(value) is None:
        raise EndpointsError(where, field, "must be a 0x-prefixed 20-byte hex address")
    digits = value[2:]
    if digits not in (digits.lower(), digits.upper()) and not is_checksum_address(value):
        raise EndpointsError(where, field, "is a mixed-case address with a wrong EIP-55 checksum")


def _check_path(value: Any, where: str, field: str) -> None:
    if not isinstance(value, str) or not value:
        raise EndpointsError(where, field, "must be a non-empty path string")


def _check_contracts(value: Any, where: str, field: str) -> None:
    if not isinstance(value, dict):
        raise EndpointsError(where, field, "must be an object of contract name to address")
    for name, address in value.items():
        _check_address(address, where, f"{field}.{name}")


def _check_dev_account(value: Any, where: str, field: str) -> None:
    if not isinstance(value, dict):
        raise EndpointsError(where, field, "must be an object with address, keystore, password_file")
    for key, check in (
        ("address", _check_address),
        ("keystore", _check_path),
        ("password_file", _check_path),
    ):
        if key not in value:
            raise EndpointsError(where, f"{field}.{key}", "is missing")
        check(value[key], where, f"{field}.{key}")


_CHECKERS: Final = {
    "rpc_url": _check_url,
    "chain_id": _check_chain_id,
    "contracts": _check_contracts,
    "dev_account": _check_dev_account,
    "resolver_url": _check_url,
}
