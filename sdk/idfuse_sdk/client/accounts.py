"""Accounts for the client: an encrypted keystore with its password (or password file), or a
raw key in an environment variable. Thin wrappers over :mod:`idfuse_sdk.keystore`, which
never puts a key or password in a message, a log record or a ``repr``."""

from __future__ import annotations

import os
from pathlib import Path

from eth_account.signers.local import LocalAccount

from idfuse_sdk.exceptions import ValidationError
from idfuse_sdk.keystore import PRIVATE_KEY_ENV, load_key, load_key_from_env, read_password_file

__all__ = ["Account"]


class Account:
    """Where a client's signing account comes from."""

    @staticmethod
    def from_keystore(
        keystore: str | os.PathLike[str],
        *,
        password: str | None = None,
        password_file: str | os.PathLike[str] | None = None,
    ) -> LocalAccount:
        """Decrypt ``keystore`` with ``password`` or the content of ``password_file``.

        :raises ValidationError: neither or both of ``password`` and ``password_file``.
        :raises KeystoreError: a file is missing or damaged, or the password is wrong.
        """
        if (password is None) == (password_file is None):
            raise ValidationError("give exactly one of password and password_file")
        secret = password if password is not None else read_password_file(Path(str(password_file)))
        return load_key(keystore, secret)

    @staticmethod
    def from_env(name: str = PRIVATE_KEY_ENV) -> LocalAccount:
        """The key in environment variable ``name`` (64 hex digits, ``0x`` optional).

        :raises PrivateKeyError: unset, empty or not a key; the message names the variable only.
        """
        return load_key_from_env(name)

    @staticmethod
    def dev_account(path_or_dir: str | os.PathLike[str]) -> LocalAccount:
        """The development account a node's ``endpoints.json`` names (its keystore and password
        file).

        :raises ClientError: the endpoints file is missing or names no development account.
        :raises KeystoreError: its files are missing or damaged.
        """
        from idfuse_sdk.client.base import read_endpoints_file
        from idfuse_sdk.exceptions import ClientError

        path, endpoints = read_endpoints_file(Path(path_or_dir))
        dev = endpoints.get("dev_account")
        if not isinstance(dev, dict) or "keystore" not in dev or "password_file" not in dev:
            raise ClientError(f"endpoints file {path} names no development account")
        return Account.from_keystore(dev["keystore"], password_file=dev["password_file"])
