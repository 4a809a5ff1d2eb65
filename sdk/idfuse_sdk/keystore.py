"""Private keys at rest: encrypted keystores, password files and keys from the environment.

The SDK owns keys because every user holds one: an operator's validator and development
accounts, an enterprise's writing account, an auditor's. Keys are stored as Ethereum v3
keystores (Web3 Secret Storage, encrypted by eth-account; scrypt unless told otherwise) beside
an optional password file, both mode ``0600`` in directories created ``0700``.

Secrets never leave this module in text: no log record, exception message or ``repr`` made
here contains a password or a private key. Log records name addresses and paths only.

Every file is published atomically: the content goes to a ``0600`` temporary file in the same
directory, is fsynced, and only then appears under its name (``os.link`` when the name must
not exist yet, ``os.replace`` when the caller allows overwriting), so a crash leaves either
no file or the whole file, never a readable half-written secret.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, Literal

from eth_account import Account
from eth_account.signers.local import LocalAccount

from idfuse_sdk.exceptions import (
    KeystoreExistsError,
    KeystoreFormatError,
    KeystoreNotFoundError,
    PrivateKeyError,
    ValidationError,
    WrongPasswordError,
)

__all__ = [
    "DEFAULT_KDF",
    "PRIVATE_DIR_MODE",
    "PRIVATE_KEY_ENV",
    "SECRET_FILE_MODE",
    "KeyDerivation",
    "create_keystore",
    "ensure_private_dir",
    "load_key",
    "load_key_from_env",
    "read_password_file",
    "write_secret_file",
]

logger = logging.getLogger(__name__)

KeyDerivation = Literal["scrypt", "pbkdf2"]
"""The key-derivation functions a keystore may use (those eth-account implements)."""

DEFAULT_KDF: Final[KeyDerivation] = "scrypt"
"""Keystores are created with scrypt at eth-account's work factor (n = 2**18) unless a caller,
typically a test, asks for a cheaper derivation."""

PRIVATE_KEY_ENV: Final = "IDFUSE_PRIVATE_KEY"
"""The environment variable :func:`load_key_from_env` reads by default."""

SECRET_FILE_MODE: Final = 0o600
"""Mode of every keystore and password file: read and write for the owner only."""

PRIVATE_DIR_MODE: Final = 0o700
"""Mode of every directory this module creates to hold secrets."""

_SECP256K1_N: Final = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HEX_KEY: Final = re.compile(r"(?:0[xX])?([0-9a-fA-F]{64})")
_WRONG_PASSWORD_MESSAGES: Final = frozenset({"MAC mismatch"})


def ensure_private_dir(path: str | os.PathLike[str]) -> Path:
    """Make ``path`` a directory, creating each missing component with mode ``0700``.

    Directories that already exist keep their mode: this never loosens or tightens a
    directory it did not create.

    :raises NotADirectoryError: a component of ``path`` is an existing file.
    :raises OSError: a directory could not be created (permission denied, full disk).
    """
    directory = Path(path)
    missing: list[Path] = []
    current = directory
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for component in reversed(missing):
        try:
            os.mkdir(component, PRIVATE_DIR_MODE)
        except FileExistsError:
            if not component.is_dir():
                raise
            continue
        # mkdir's mode is filtered through the umask; set it exactly.
        os.chmod(component, PRIVATE_DIR_MODE)
    if not directory.is_dir():
        raise NotADirectoryError(f"{directory} exists and is not a directory")
    return directory


def write_secret_file(path: str | os.PathLike[str], text: str, *, overwrite: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` as a ``0600`` file, atomically.

    The parent directory is created ``0700`` if missing. The file is ``0600`` from the moment
    it exists, and it appears under ``path`` only once its whole content is on disk.

    :param overwrite: replace an existing file at ``path``; by default an existing file is
        never touched.
    :raises KeystoreExistsError: ``path`` exists and ``overwrite`` is false.
    :raises OSError: the directory or the file could not be written.
    """
    target = Path(path)
    directory = ensure_private_dir(target.parent)
    if not overwrite and os.path.lexists(target):
        raise KeystoreExistsError(f"{target} already exists; refusing to overwrite it")
    fd, temp_name = tempfile.mkstemp(dir=directory, prefix=f".{target.name}.", suffix=".tmp")
    try:
        try:
            os.fchmod(fd, SECRET_FILE_MODE)
            os.write(fd, text.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(temp_name, target)
        else:
            try:
                os.link(temp_name, target)
            except FileExistsError:
                raise KeystoreExistsError(f"{target} already exists; refusing to overwrite it") from None
    finally:
        if os.path.lexists(temp_name):
            os.unlink(temp_name)
    _fsync_directory(directory)
    return target


def read_password_file(path: str | os.PathLike[str]) -> str:
    """Read a password from a file, dropping one trailing newline (``\\n`` or ``\\r\\n``).

    :raises KeystoreNotFoundError: there is no file at ``path``.
    :raises KeystoreFormatError: the file is not UTF-8 text, or holds no password.
    """
    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise KeystoreNotFoundError(f"no password file at {source}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # The decoder's message quotes a byte of the password: drop it.
        raise KeystoreFormatError(f"password file {source} is not UTF-8 text") from None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        raise KeystoreFormatError(f"password file {source} is empty")
    return text


def create_keystore(
    path: str | os.PathLike[str],
    password: str,
    private_key: str | bytes | None = None,
    *,
    kdf: KeyDerivation = DEFAULT_KDF,
    iterations: int | None = None,
) -> str:
    """Encrypt a private key into a new v3 keystore at ``path`` and return its address.

    :param private_key: the key to store, as 32 bytes or 64 hex digits (``0x`` optional); a
        fresh random key when omitted.
    :param kdf: ``"scrypt"`` (the default) or ``"pbkdf2"``.
    :param iterations: the KDF's work factor (scrypt's ``n``, a power of two; pbkdf2's round
        count); eth-account's strong default when omitted. Only tests should lower it.
    :returns: the account's checksum address.
    :raises KeystoreExistsError: a file already exists at ``path``; it is left untouched.
    :raises PrivateKeyError: ``private_key`` is not a valid secp256k1 secret.
    :raises ValidationError: the password is empty, or ``kdf``/``iterations`` are not usable.
    :raises OSError: the file could not be written.
    """
    target = Path(path)
    if os.path.lexists(target):
        raise KeystoreExistsError(f"{target} already exists; refusing to overwrite a keystore")
    if not isinstance(password, str) or not password:
        raise ValidationError("password must be a non-empty string")
    _validate_kdf(kdf, iterations)
    if private_key is None:
        account: LocalAccount = Account.create()
    else:
        account = Account.from_key(_parse_private_key(private_key, source="private_key argument"))
    keystore = Account.encrypt(account.key, password, kdf=kdf, iterations=iterations)
    write_secret_file(target, json.dumps(keystore, indent=2) + "\n")
    logger.debug("created keystore for %s at %s (kdf %s)", account.address, target, kdf)
    return str(account.address)


def load_key(path: str | os.PathLike[str], password: str) -> LocalAccount:
    """Decrypt the keystore at ``path`` with ``password``.

    :raises KeystoreNotFoundError: there is no file at ``path``.
    :raises KeystoreFormatError: the file is not a v3 keystore, or its address does not match
        the key it holds.
    :raises WrongPasswordError: the password does not decrypt it.
    """
    source = Path(path)
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        raise KeystoreNotFoundError(f"no keystore at {source}") from None
    try:
        keystore = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise KeystoreFormatError(f"{source} is not a keystore: not JSON") from None
    _check_keystore_shape(keystore, source)
    try:
        key = Account.decrypt(keystore, password)
    except ValueError as exc:
        if str(exc) in _WRONG_PASSWORD_MESSAGES:
            raise WrongPasswordError(f"wrong password for keystore {source}") from None
        raise KeystoreFormatError(f"{source} is not a usable keystore: {_describe(exc)}") from None
    except (KeyError, TypeError) as exc:
        raise KeystoreFormatError(f"{source} is not a usable keystore: {_describe(exc)}") from None
    account: LocalAccount = Account.from_key(key)
    stored = keystore.get("address")
    if stored is not None and _strip_0x(str(stored)).lower() != _strip_0x(account.address).lower():
        raise KeystoreFormatError(f"{source} names address {stored} but holds the key of another account")
    logger.debug("loaded key for %s from %s", account.address, source)
    return account


def load_key_from_env(
    name: str = PRIVATE_KEY_ENV, *, environ: Mapping[str, str] | None = None
) -> LocalAccount:
    """Load a raw private key from the environment variable ``name``.

    The value is 64 hex digits, optionally ``0x``-prefixed; surrounding whitespace is ignored.

    :param environ: the environment to read (``os.environ`` by default).
    :raises PrivateKeyError: the variable is unset or empty, or does not hold a valid key. The
        message names the variable, never its value.
    """
    env = os.environ if environ is None else environ
    value = env.get(name)
    if value is None or not value.strip():
        raise PrivateKeyError(
            f"environment variable {name} is not set; put a 0x-prefixed hex private key in it"
        )
    account: LocalAccount = Account.from_key(_parse_private_key(value, source=f"environment variable {name}"))
    logger.debug("loaded key for %s from environment variable %s", account.address, name)
    return account


def _parse_private_key(value: str | bytes, *, source: str) -> bytes:
    """Return ``value`` as a 32-byte secp256k1 secret; errors name ``source``, not the value."""
    expected = "expected 64 hex digits (0x optional) for a secp256k1 key between 1 and n - 1"
    if isinstance(value, bytes):
        key = value
    elif isinstance(value, str):
        match = _HEX_KEY.fullmatch(value.strip())
        if match is None:
            raise PrivateKeyError(f"{source} is not a private key: {expected}")
        key = bytes.fromhex(match.group(1))
    else:
        raise PrivateKeyError(f"{source} is not a private key: {expected}, as str or bytes")
    if len(key) != 32 or not 0 < int.from_bytes(key, "big") < _SECP256K1_N:
        raise PrivateKeyError(f"{source} is not a private key: {expected}")
    return key


def _validate_kdf(kdf: str, iterations: int | None) -> None:
    if kdf not in ("scrypt", "pbkdf2"):
        raise ValidationError(f"kdf must be 'scrypt' or 'pbkdf2', not {kdf!r}")
    if iterations is None:
        return
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValidationError("iterations must be a positive integer")
    if kdf == "scrypt" and (iterations < 2 or iterations & (iterations - 1)):
        raise ValidationError("iterations for scrypt (its n) must be a power of two, at least 2")


def _check_keystore_shape(keystore: Any, source: Path) -> None:
    """Reject what is plainly not a v3 keystore before handing it to eth-account."""

    def fail(reason: str) -> KeystoreFormatError:
        return KeystoreFormatError(f"{source} is not a v3 keystore: {reason}")

    if not isinstance(keystore, dict):
        raise fail("not a JSON object")
    if keystore.get("version") != 3:
        raise fail("'version' is not 3")
    crypto = keystore.get("crypto", keystore.get("Crypto"))
    if not isinstance(crypto, dict):
        raise fail("no 'crypto' object")
    if crypto.get("cipher") != "aes-128-ctr":
        raise fail("'crypto.cipher' is not 'aes-128-ctr'")
    if crypto.get("kdf") not in ("scrypt", "pbkdf2"):
        raise fail("'crypto.kdf' is neither 'scrypt' nor 'pbkdf2'")
    for field in ("ciphertext", "mac"):
        if not isinstance(crypto.get(field), str):
            raise fail(f"'crypto.{field}' is not a string")
    if not isinstance(crypto.get("kdfparams"), dict):
        raise fail("'crypto.kdfparams' is not an object")
    cipherparams = crypto.get("cipherparams")
    if not isinstance(cipherparams, dict) or not isinstance(cipherparams.get("iv"), str):
        raise fail("'crypto.cipherparams.iv' is not a string")


def _describe(exc: BaseException) -> str:
    """A reason for a malformed keystore: the exception's type and, for a missing field, its
    name. Never the library's message, which could quote the file's content."""
    if isinstance(exc, KeyError) and exc.args:
        return f"missing field {exc.args[0]!r}"
    return f"{type(exc).__name__} while decrypting"


def _strip_0x(value: str) -> str:
    return value[2:] if value[:2] in ("0x", "0X") else value


def _fsync_directory(directory: Path) -> None:
    """Make a rename or link in ``directory`` durable."""
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
