"""Keystores, password files and environment keys (idfuse_sdk.keystore)."""

from __future__ import annotations

import json
import logging
import os
import stat
import tempfile
from pathlib import Path

import pytest
from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from idfuse_sdk import keystore as ks
from idfuse_sdk.exceptions import (
    IdfuseError,
    KeystoreError,
    KeystoreExistsError,
    KeystoreFormatError,
    KeystoreNotFoundError,
    PrivateKeyError,
    ValidationError,
    WrongPasswordError,
)
from idfuse_sdk.keystore import (
    create_keystore,
    ensure_private_dir,
    load_key,
    load_key_from_env,
    read_password_file,
    write_secret_file,
)
from tests.conftest import mode_of

KEY_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
KEY_ADDRESS = Account.from_key(bytes.fromhex(KEY_HEX)).address
PASSWORD = "correct horse battery staple"
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141

# A cheap KDF for tests; the production default (scrypt, n = 2**18) has its own test.
CHEAP = {"kdf": "pbkdf2", "iterations": 2}


# --- create_keystore / load_key ---------------------------------------------------------


def test_round_trip_with_a_given_key(tmp_path):
    path = tmp_path / "account.json"
    address = create_keystore(path, PASSWORD, KEY_HEX, **CHEAP)
    assert address == KEY_ADDRESS
    account = load_key(path, PASSWORD)
    assert account.address == KEY_ADDRESS
    assert account.key.hex().removeprefix("0x") == KEY_HEX


@pytest.mark.parametrize(
    "key",
    [KEY_HEX, "0x" + KEY_HEX, "0X" + KEY_HEX.upper(), f"  {KEY_HEX}\n", bytes.fromhex(KEY_HEX)],
    ids=["hex", "0x", "upper", "whitespace", "bytes"],
)
def test_key_forms_accepted(tmp_path, key):
    assert create_keystore(tmp_path / "k.json", PASSWORD, key, **CHEAP) == KEY_ADDRESS


def test_fresh_key_when_none_given(tmp_path):
    first = create_keystore(tmp_path / "a.json", PASSWORD, **CHEAP)
    second = create_keystore(tmp_path / "b.json", PASSWORD, **CHEAP)
    assert first != second
    assert load_key(tmp_path / "a.json", PASSWORD).address == first


def test_keystore_is_standard_v3_json(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, KEY_HEX, **CHEAP)
    data = json.loads(path.read_text())
    assert data["version"] == 3
    assert data["address"].lower() == KEY_ADDRESS[2:].lower()
    assert data["crypto"]["kdf"] == "pbkdf2"
    assert data["crypto"]["kdfparams"]["c"] == 2
    # eth-account alone can read it: nothing idfuse-specific.
    assert Account.decrypt(data, PASSWORD).hex().removeprefix("0x") == KEY_HEX
    assert KEY_HEX not in path.read_text()


def test_production_default_is_strong_scrypt(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, KEY_HEX)
    params = json.loads(path.read_text())["crypto"]
    assert params["kdf"] == "scrypt"
    assert params["kdfparams"]["n"] == 2**18
    assert ks.DEFAULT_KDF == "scrypt"


def test_scrypt_round_trip_with_a_small_work_factor(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, KEY_HEX, kdf="scrypt", iterations=16)
    assert json.loads(path.read_text())["crypto"]["kdfparams"]["n"] == 16
    assert load_key(path, PASSWORD).address == KEY_ADDRESS


def test_keystore_file_is_0600_in_new_0700_directories(tmp_path, umask_zero):
    path = tmp_path / "deep" / "keys" / "k.json"
    create_keystore(path, PASSWORD, KEY_HEX, **CHEAP)
    assert mode_of(path) == 0o600
    assert mode_of(tmp_path / "deep") == 0o700
    assert mode_of(tmp_path / "deep" / "keys") == 0o700
    assert stat.S_ISREG(os.stat(path).st_mode)


def test_existing_directories_keep_their_mode(tmp_path):
    os.chmod(tmp_path, 0o755)
    create_keystore(tmp_path / "k.json", PASSWORD, KEY_HEX, **CHEAP)
    assert mode_of(tmp_path) == 0o755


def test_refuses_to_overwrite_a_keystore(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, KEY_HEX, **CHEAP)
    before = path.read_bytes()
    with pytest.raises(KeystoreExistsError, match="already exists"):
        create_keystore(path, "another password", **CHEAP)
    assert path.read_bytes() == before
    assert load_key(path, PASSWORD).address == KEY_ADDRESS


def test_refuses_to_write_through_a_dangling_symlink(tmp_path):
    link = tmp_path / "k.json"
    link.symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(KeystoreExistsError):
        create_keystore(link, PASSWORD, KEY_HEX, **CHEAP)
    assert not (tmp_path / "elsewhere.json").exists()


def test_wrong_password(tmp_path):
    path = tmp_path / "k.json"
    create_keystore(path, PASSWORD, KEY_HEX, **CHEAP)
    with pytest.raises(WrongPasswordError) as info:
        load_key(path, "not the password")
    assert isinstance(info.value, KeystoreError)
    assert isinstance(info.value, IdfuseError)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == f"wrong password for keystore {path}"
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


def test_missing_keystore(tmp_path):
    with pytest.raises(KeystoreNotFoundError, match="no keystore at"):
        load_key(tmp_path / "absent.json", PASSWORD)


def _valid_keystore(tmp_path) -> dict:
    path = tmp_path / "valid.json"
    create_keystore(path, PASSWORD, KEY_HEX, **CHEAP)
    return json.loads(path.read_text())


def _tampered(tmp_path, change) -> bytes:
    data = _valid_keystore(tmp_path)
    change(data)
    return json.dumps(data).encode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (lambda tmp: b"not json", "not JSON"),
        (lambda tmp: b"\xff\xfe", "not JSON"),
        (lambda tmp: b"[1, 2]", "not a JSON object"),
        (lambda tmp: _tampered(tmp, lambda d: d.update(version=4)), "'version' is not 3"),
        (lambda tmp: _tampered(tmp, lambda d: d.pop("crypto")), "no 'crypto' object"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"].update(cipher="aes-256-gcm")), "cipher"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"].update(kdf="argon2")), "kdf"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"].update(mac=7)), "'crypto.mac'"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"].update(kdfparams=[])), "kdfparams"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"].pop("cipherparams")), "cipherparams"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"]["kdfparams"].pop("salt")), "missing field 'salt'"),
        (lambda tmp: _tampered(tmp, lambda d: d["crypto"].update(ciphertext="zz")), "while decrypting"),
        (
            lambda tmp: _tampered(tmp, lambda d: d.update(address="00" * 20)),
            "holds the key of another account",
        ),
    ],
    ids=[
        "not-json",
        "not-utf8",
        "array",
        "version",
        "no-crypto",
        "cipher",
        "kdf",
        "mac-type",
        "kdfparams",
        "cipherparams",
        "missing-salt",
        "bad-hex",
        "wrong-address",
    ],
)
def test_malformed_keystores(tmp_path, content, reason):
    path = tmp_path / "k.json"
    path.write_bytes(content(tmp_path))
    with pytest.raises(KeystoreFormatError, match=reason) as info:
        load_key(path, PASSWORD)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_tampered_ciphertext_fails_the_mac(tmp_path):
    data = _valid_keystore(tmp_path)
    ciphertext = data["crypto"]["ciphertext"]
    data["crypto"]["ciphertext"] = ("0" if ciphertext[0] != "0" else "1") + ciphertext[1:]
    path = tmp_path / "k.json"
    path.write_text(json.dumps(data))
    with pytest.raises(WrongPasswordError):
        load_key(path, PASSWORD)


BAD_KEYS = [
    "",
    "0x",
    KEY_HEX[:-1],
    KEY_HEX + "0",
    "g" + KEY_HEX[1:],
    "0x0x" + KEY_HEX,
    "00" * 32,
    f"{SECP256K1_N:064x}",
    f"{SECP256K1_N + 1:064x}",
    bytes(31),
    bytes.fromhex(KEY_HEX) + b"\x00",
    bytes(32),
]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_invalid_private_key_argument(tmp_path, key):
    with pytest.raises(PrivateKeyError, match="private_key argument is not a private key") as info:
        create_keystore(tmp_path / "k.json", PASSWORD, key, **CHEAP)
    if isinstance(key, str) and len(key) > 4:
        assert key.strip() not in str(info.value)
    assert not (tmp_path / "k.json").exists()


def test_private_key_of_wrong_type(tmp_path):
    with pytest.raises(PrivateKeyError):
        create_keystore(tmp_path / "k.json", PASSWORD, 12345, **CHEAP)  # type: ignore[arg-type]


def test_largest_valid_key(tmp_path):
    key = f"{SECP256K1_N - 1:064x}"
    address = create_keystore(tmp_path / "k.json", PASSWORD, key, **CHEAP)
    assert address == Account.from_key(bytes.fromhex(key)).address


@pytest.mark.parametrize(
    ("password", "kdf", "iterations", "match"),
    [
        ("", "pbkdf2", 2, "password must be a non-empty string"),
        (PASSWORD, "argon2", None, "kdf must be"),
        (PASSWORD, "pbkdf2", 0, "positive integer"),
        (PASSWORD, "pbkdf2", True, "positive integer"),
        (PASSWORD, "pbkdf2", 1.5, "positive integer"),
        (PASSWORD, "scrypt", 1000, "power of two"),
        (PASSWORD, "scrypt", 1, "power of two"),
    ],
)
def test_invalid_create_options(tmp_path, password, kdf, iterations, match):
    with pytest.raises(ValidationError, match=match):
        create_keystore(tmp_path / "k.json", password, KEY_HEX, kdf=kdf, iterations=iterations)
    assert not (tmp_path / "k.json").exists()


passwords = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=40)


@settings(max_examples=25, deadline=None)
@given(
    key=st.integers(min_value=1, max_value=SECP256K1_N - 1).map(lambda n: n.to_bytes(32, "big")),
    password=passwords,
)
def test_round_trip_property(key, password):
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "k.json"
        address = create_keystore(path, password, key, kdf="pbkdf2", iterations=1)
        account = load_key(path, password)
        assert account.address == address
        assert bytes(account.key) == key


# --- password files and secret files ----------------------------------------------------


@pytest.mark.parametrize(
    ("content", "password"),
    [
        (b"pw", "pw"),
        (b"pw\n", "pw"),
        (b"pw\r\n", "pw"),
        (b"pw\n\n", "pw\n"),
        (b" pw \n", " pw "),
        ("pässwörd\n".encode(), "pässwörd"),
    ],
)
def test_read_password_file_strips_one_newline(tmp_path, content, password):
    path = tmp_path / "password"
    path.write_bytes(content)
    assert read_password_file(path) == password


@pytest.mark.parametrize("content", [b"", b"\n", b"\r\n"])
def test_empty_password_file(tmp_path, content):
    path = tmp_path / "password"
    path.write_bytes(content)
    with pytest.raises(KeystoreFormatError, match="is empty"):
        read_password_file(path)


def test_password_file_not_utf8(tmp_path):
    path = tmp_path / "password"
    path.write_bytes(b"secret\xffbyte")
    with pytest.raises(KeystoreFormatError, match="not UTF-8") as info:
        read_password_file(path)
    assert "secret" not in str(info.value)
    assert "xff" not in str(info.value)


def test_missing_password_file(tmp_path):
    with pytest.raises(KeystoreNotFoundError, match="no password file"):
        read_password_file(tmp_path / "absent")


def test_write_secret_file_is_0600_and_round_trips(tmp_path, umask_zero):
    path = tmp_path / "secrets" / "password"
    assert write_secret_file(path, PASSWORD + "\n") == path
    assert mode_of(path) == 0o600
    assert mode_of(path.parent) == 0o700
    assert read_password_file(path) == PASSWORD
    assert sorted(os.listdir(path.parent)) == ["password"]


def test_write_secret_file_is_0600_before_any_content_is_written(tmp_path, umask_zero, monkeypatch):
    seen = []
    real_write = os.write

    def watching_write(fd, data):
        seen.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return real_write(fd, data)

    monkeypatch.setattr(ks.os, "write", watching_write)
    write_secret_file(tmp_path / "password", PASSWORD)
    assert seen == [0o600]


def test_write_secret_file_refuses_to_overwrite_by_default(tmp_path):
    path = tmp_path / "password"
    write_secret_file(path, "first")
    with pytest.raises(KeystoreExistsError):
        write_secret_file(path, "second")
    assert path.read_text() == "first"
    assert os.listdir(tmp_path) == ["password"]


def test_write_secret_file_overwrite_replaces_and_stays_0600(tmp_path):
    path = tmp_path / "password"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_secret_file(path, "new", overwrite=True)
    assert path.read_text() == "new"
    assert mode_of(path) == 0o600
    assert os.listdir(tmp_path) == ["password"]


def test_losing_the_race_to_create_leaves_the_winner(tmp_path, monkeypatch):
    path = tmp_path / "password"
    real_link = os.link

    def racing_link(src, dst):
        Path(dst).write_text("winner")
        return real_link(src, dst)

    monkeypatch.setattr(ks.os, "link", racing_link)
    with pytest.raises(KeystoreExistsError):
        write_secret_file(path, "loser")
    assert path.read_text() == "winner"
    assert os.listdir(tmp_path) == ["password"]


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def failing_fsync(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ks.os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="No space left"):
        write_secret_file(tmp_path / "password", PASSWORD)
    assert os.listdir(tmp_path) == []


def test_ensure_private_dir_over_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        ensure_private_dir(tmp_path / "file")
    with pytest.raises(NotADirectoryError):
        ensure_private_dir(tmp_path / "file" / "sub")


def test_ensure_private_dir_is_idempotent(tmp_path, umask_zero):
    target = tmp_path / "a" / "b"
    assert ensure_private_dir(target) == target
    assert ensure_private_dir(target) == target
    assert mode_of(tmp_path / "a") == 0o700
    assert mode_of(target) == 0o700


# --- keys from the environment ----------------------------------------------------------


@pytest.mark.parametrize("value", [KEY_HEX, "0x" + KEY_HEX, f" 0x{KEY_HEX.upper()} \n"])
def test_load_key_from_env(value):
    account = load_key_from_env("MY_KEY", environ={"MY_KEY": value})
    assert account.address == KEY_ADDRESS


def test_load_key_from_env_defaults_to_idfuse_private_key(monkeypatch):
    monkeypatch.setenv("IDFUSE_PRIVATE_KEY", "0x" + KEY_HEX)
    assert ks.PRIVATE_KEY_ENV == "IDFUSE_PRIVATE_KEY"
    assert load_key_from_env().address == KEY_ADDRESS


@pytest.mark.parametrize("environ", [{}, {"IDFUSE_PRIVATE_KEY": ""}, {"IDFUSE_PRIVATE_KEY": "  \n"}])
def test_load_key_from_env_unset(environ):
    with pytest.raises(PrivateKeyError, match="environment variable IDFUSE_PRIVATE_KEY is not set"):
        load_key_from_env(environ=environ)


@pytest.mark.parametrize("value", [v for v in BAD_KEYS if isinstance(v, str) and len(v) > 2])
def test_load_key_from_env_invalid_never_echoes(value):
    with pytest.raises(
        PrivateKeyError, match="environment variable IDFUSE_PRIVATE_KEY is not a private key"
    ) as info:
        load_key_from_env(environ={"IDFUSE_PRIVATE_KEY": value})
    message = str(info.value) + repr(info.value)
    assert value not in message
    assert value.removeprefix("0x").removeprefix("0x") not in message


# --- secrets never leak -------------------------------------------------------------------


def test_no_key_or_password_in_logs_output_or_errors(tmp_path, caplog, capfd):
    """Every path through the module, with logging at DEBUG everywhere: neither the private
    key nor the password shows up in a log record, on stdout/stderr, or in an error."""
    secrets = [KEY_HEX, KEY_HEX.upper(), PASSWORD]
    errors: list[BaseException] = []
    caplog.set_level(logging.DEBUG)
    root = logging.getLogger()
    careless = logging.StreamHandler()  # what a careless application would add
    root.addHandler(careless)
    try:
        keystore = tmp_path / "keys" / "account.json"
        password_file = tmp_path / "keys" / "password"
        write_secret_file(password_file, PASSWORD + "\n")
        address = create_keystore(keystore, read_password_file(password_file), "0x" + KEY_HEX, **CHEAP)
        assert load_key(keystore, read_password_file(password_file)).address == address
        assert load_key_from_env(environ={"IDFUSE_PRIVATE_KEY": KEY_HEX}).address == address
        attempts = [
            lambda: create_keystore(keystore, PASSWORD, KEY_HEX, **CHEAP),
            lambda: load_key(keystore, PASSWORD + "x"),
            lambda: load_key(keystore, PASSWORD[:-1]),
            lambda: load_key_from_env(environ={"IDFUSE_PRIVATE_KEY": KEY_HEX[:-1]}),
            lambda: load_key_from_env(environ={"IDFUSE_PRIVATE_KEY": KEY_HEX + "00"}),
            lambda: create_keystore(tmp_path / "other.json", PASSWORD, KEY_HEX + "00", **CHEAP),
        ]
        for attempt in attempts:
            with pytest.raises(KeystoreError) as info:
                attempt()
            errors.append(info.value)
    finally:
        root.removeHandler(careless)
    out, err = capfd.readouterr()
    assert any(address in record.getMessage() for record in caplog.records), "nothing was logged"
    texts = [caplog.text, out, err, *(str(e) for e in errors), *(repr(e) for e in errors)]
    for text in texts:
        for secret in secrets:
            assert secret not in text
