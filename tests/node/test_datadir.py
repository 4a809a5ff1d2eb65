"""The node's data directory and endpoints.json (idfuse_node.datadir)."""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import string
import threading
from pathlib import Path

import pytest
from eth_account import Account

from idfuse_node.datadir import (
    ENDPOINTS_FILE,
    DataDir,
    create_account,
    new_password,
    read_endpoints,
    update_endpoints,
)
from idfuse_node.exceptions import DataDirError, EndpointsError, EndpointsNotFoundError, IdfuseNodeError
from idfuse_sdk.exceptions import KeystoreExistsError, PrivateKeyError
from idfuse_sdk.keystore import load_key, read_password_file
from tests.conftest import mode_of

CHEAP = {"kdf": "pbkdf2", "iterations": 2}
KEY_HEX = "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
KEY_ADDRESS = Account.from_key(bytes.fromhex(KEY_HEX)).address
CONSORTIUM = "0x" + "11" * 20
PREFIX_REGISTRY = "0x" + "22" * 20


@pytest.fixture
def datadir(tmp_path) -> DataDir:
    return DataDir(tmp_path / "node")


# --- layout ---------------------------------------------------------------------------------


def test_every_path_is_distinct_and_inside_root(datadir):
    paths = [
        datadir.chain_db,
        datadir.index_db,
        datadir.genesis,
        datadir.validator_keystore,
        datadir.validator_password_file,
        datadir.dev_keystore,
        datadir.dev_password_file,
        datadir.endpoints,
    ]
    assert len(set(paths)) == len(paths)
    assert all(path.parent == datadir.root for path in paths)
    assert datadir.endpoints.name == ENDPOINTS_FILE == "endpoints.json"
    assert datadir.genesis.name == "genesis.json"


def test_root_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    datadir = DataDir(Path("relative"))
    assert datadir.root == tmp_path / "relative"
    assert datadir.chain_db.is_absolute()
    assert DataDir(Path("relative")) == datadir


def test_root_expands_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    assert DataDir(Path("~/idfuse")).root == tmp_path / "idfuse"


def test_datadir_is_frozen(datadir):
    with pytest.raises(dataclasses.FrozenInstanceError):
        datadir.root = Path("/elsewhere")


def test_ensure_creates_root_and_parents_0700(tmp_path, umask_zero):
    datadir = DataDir(tmp_path / "a" / "node")
    assert datadir.ensure() == datadir.root
    assert mode_of(tmp_path / "a") == 0o700
    assert mode_of(datadir.root) == 0o700
    assert datadir.ensure() == datadir.root


def test_ensure_keeps_an_existing_directory_mode(datadir):
    datadir.root.mkdir(mode=0o750)
    os.chmod(datadir.root, 0o750)
    datadir.ensure()
    assert mode_of(datadir.root) == 0o750


def test_ensure_over_a_file(tmp_path):
    (tmp_path / "node").write_text("not a directory")
    with pytest.raises(NotADirectoryError):
        DataDir(tmp_path / "node").ensure()


def test_is_empty(datadir):
    assert datadir.is_empty()
    datadir.ensure()
    assert datadir.is_empty()
    datadir.genesis.write_text("{}")
    assert not datadir.is_empty()


# --- accounts ---------------------------------------------------------------------------------


def test_new_password_is_256_random_bits_urlsafe():
    passwords = {new_password() for _ in range(20)}
    assert len(passwords) == 20
    alphabet = set(string.ascii_letters + string.digits + "-_")
    for password in passwords:
        assert len(password) == 43
        assert set(password) <= alphabet


@pytest.mark.parametrize("role", ["validator", "dev"])
def test_create_and_load_an_account(datadir, umask_zero, role):
    create = getattr(datadir, f"create_{role}_account")
    load = getattr(datadir, f"load_{role}_account")
    keystore = datadir.validator_keystore if role == "validator" else datadir.dev_keystore
    password_file = datadir.validator_password_file if role == "validator" else datadir.dev_password_file

    address = create(**CHEAP)
    assert load().address == address
    assert mode_of(datadir.root) == 0o700
    assert mode_of(keystore) == 0o600
    assert mode_of(password_file) == 0o600
    password = password_file.read_text()
    assert password.endswith("\n")
    assert len(password) == 44
    assert load_key(keystore, read_password_file(password_file)).address == address


def test_accounts_get_their_own_keys_and_passwords(datadir):
    validator = datadir.create_validator_account(**CHEAP)
    dev = datadir.create_dev_account(**CHEAP)
    assert validator != dev
    assert datadir.validator_password_file.read_text() != datadir.dev_password_file.read_text()


def test_account_from_a_given_key(datadir):
    assert datadir.create_dev_account(KEY_HEX, **CHEAP) == KEY_ADDRESS
    assert datadir.load_dev_account().address == KEY_ADDRESS


def test_node_keystores_default_to_scrypt(datadir):
    datadir.create_validator_account(KEY_HEX)
    assert json.loads(datadir.validator_keystore.read_text())["crypto"]["kdf"] == "scrypt"


def test_an_account_is_never_recreated(datadir):
    datadir.create_dev_account(KEY_HEX, **CHEAP)
    keystore = datadir.dev_keystore.read_bytes()
    password = datadir.dev_password_file.read_bytes()
    with pytest.raises(KeystoreExistsError):
        datadir.create_dev_account(**CHEAP)
    assert datadir.dev_keystore.read_bytes() == keystore
    assert datadir.dev_password_file.read_bytes() == password


def test_an_orphan_password_file_blocks_creation(datadir):
    datadir.ensure()
    datadir.dev_password_file.write_text("left over\n")
    with pytest.raises(KeystoreExistsError):
        datadir.create_dev_account(**CHEAP)
    assert not datadir.dev_keystore.exists()
    assert datadir.dev_password_file.read_text() == "left over\n"


def test_a_failed_keystore_removes_its_password_file(tmp_path):
    with pytest.raises(PrivateKeyError):
        create_account(tmp_path / "k.json", tmp_path / "k.password", "not a key", **CHEAP)
    assert os.listdir(tmp_path) == []


# --- endpoints.json -----------------------------------------------------------------------------


def dev_entry(datadir: DataDir) -> dict:
    return datadir.dev_account_endpoint(KEY_ADDRESS)


def test_dev_account_endpoint_names_absolute_paths(datadir):
    entry = dev_entry(datadir)
    assert entry == {
        "address": KEY_ADDRESS,
        "keystore": str(datadir.dev_keystore),
        "password_file": str(datadir.dev_password_file),
    }
    assert Path(entry["keystore"]).is_absolute()


def test_update_creates_the_file_0600(datadir, umask_zero):
    written = update_endpoints(datadir.endpoints, rpc_url="http://127.0.0.1:8545", chain_id=1337)
    assert written == {"rpc_url": "http://127.0.0.1:8545", "chain_id": 1337}
    assert read_endpoints(datadir.endpoints) == written
    assert mode_of(datadir.endpoints) == 0o600
    assert mode_of(datadir.root) == 0o700


def test_addresses_in_any_valid_case(datadir):
    checksummed = KEY_ADDRESS
    contracts = {"A": checksummed, "B": checksummed.lower(), "C": "0x" + checksummed[2:].upper()}
    assert update_endpoints(datadir.endpoints, contracts=contracts)["contracts"] == contracts


def test_the_ledger_and_the_resolver_each_add_their_fields(datadir):
    ledger = {
        "rpc_url": "http://127.0.0.1:8545",
        "chain_id": 1337,
        "contracts": {"Consortium": CONSORTIUM, "PrefixRegistry": PREFIX_REGISTRY},
        "dev_account": dev_entry(datadir),
    }
    update_endpoints(datadir.endpoints, **ledger)
    merged = update_endpoints(datadir.endpoints, resolver_url="http://127.0.0.1:8000")
    assert merged == {**ledger, "resolver_url": "http://127.0.0.1:8000"}
    assert read_endpoints(datadir.endpoints) == merged


def test_a_field_is_replaced_whole_and_others_are_kept(datadir):
    update_endpoints(
        datadir.endpoints,
        rpc_url="http://127.0.0.1:8545",
        contracts={"Consortium": CONSORTIUM, "PrefixRegistry": PREFIX_REGISTRY},
    )
    update_endpoints(datadir.endpoints, contracts={"Consortium": PREFIX_REGISTRY})
    update_endpoints(datadir.endpoints, rpc_url="https://ledger.example:9545/rpc")
    assert read_endpoints(datadir.endpoints) == {
        "rpc_url": "https://ledger.example:9545/rpc",
        "contracts": {"Consortium": PREFIX_REGISTRY},
    }


def test_fields_written_by_a_newer_node_survive(datadir):
    datadir.ensure()
    datadir.endpoints.write_text(json.dumps({"chain_id": 5, "explorer_url": "http://x", "extra": [1, 2]}))
    assert read_endpoints(datadir.endpoints)["extra"] == [1, 2]
    update_endpoints(datadir.endpoints, chain_id=6)
    assert read_endpoints(datadir.endpoints) == {"chain_id": 6, "explorer_url": "http://x", "extra": [1, 2]}


def test_the_file_is_readable_json_with_sorted_keys(datadir):
    update_endpoints(datadir.endpoints, rpc_url="http://127.0.0.1:8545", chain_id=1)
    text = datadir.endpoints.read_text()
    assert text.endswith("\n")
    assert list(json.loads(text)) == ["chain_id", "rpc_url"]


def test_update_leaves_no_temporary_files(datadir):
    for chain_id in range(1, 4):
        update_endpoints(datadir.endpoints, chain_id=chain_id)
    assert sorted(os.listdir(datadir.root)) == ["endpoints.json", "endpoints.json.lock"]


def test_a_crash_before_the_rename_keeps_the_old_file(datadir, monkeypatch):
    update_endpoints(datadir.endpoints, rpc_url="http://127.0.0.1:8545", chain_id=1)
    before = datadir.endpoints.read_bytes()

    def crash(src, dst):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="Input/output error"):
        update_endpoints(datadir.endpoints, chain_id=2)
    monkeypatch.undo()
    assert datadir.endpoints.read_bytes() == before
    assert sorted(os.listdir(datadir.root)) == ["endpoints.json", "endpoints.json.lock"]


def test_a_crash_while_writing_keeps_the_old_file(datadir, monkeypatch):
    update_endpoints(datadir.endpoints, chain_id=1)
    before = datadir.endpoints.read_bytes()
    real_write = os.write

    def half_write(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", half_write)
    with pytest.raises(OSError, match="No space left"):
        update_endpoints(datadir.endpoints, rpc_url="http://127.0.0.1:8545")
    monkeypatch.undo()
    assert datadir.endpoints.read_bytes() == before
    assert read_endpoints(datadir.endpoints) == {"chain_id": 1}


def test_concurrent_writers_lose_no_field(datadir):
    """Five writers (as the ledger, indexer and resolver would be), each rewriting its own field
    many times at once: every field survives, and a concurrent reader never sees a torn file."""
    updates = {
        "rpc_url": "http://127.0.0.1:8545",
        "chain_id": 1337,
        "contracts": {"Consortium": CONSORTIUM},
        "dev_account": dev_entry(datadir),
        "resolver_url": "http://127.0.0.1:8000",
    }
    update_endpoints(datadir.endpoints, chain_id=1)
    errors: list[BaseException] = []
    done = threading.Event()

    def writer(name, value):
        try:
            for _ in range(25):
                update_endpoints(datadir.endpoints, **{name: value})
        except BaseException as error:
            errors.append(error)

    def reader():
        try:
            while not done.is_set():
                read_endpoints(datadir.endpoints)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=item) for item in updates.items()]
    watcher = threading.Thread(target=reader)
    watcher.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    watcher.join()
    assert errors == []
    assert read_endpoints(datadir.endpoints) == updates


def test_read_missing_file(datadir):
    with pytest.raises(EndpointsNotFoundError, match="has the node been started") as info:
        read_endpoints(datadir.endpoints)
    assert isinstance(info.value, DataDirError)
    assert isinstance(info.value, IdfuseNodeError)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b'{"chain_id": 1', "is not valid JSON (line 1, column 15)"),
        (b"", "is not valid JSON (line 1, column 1)"),
        (b"\xff", "is not UTF-8 text"),
        (b"[]", "is not a JSON object"),
        (b'"text"', "is not a JSON object"),
    ],
)
def test_malformed_file(datadir, content, reason):
    datadir.ensure()
    datadir.endpoints.write_bytes(content)
    with pytest.raises(EndpointsError) as info:
        read_endpoints(datadir.endpoints)
    assert info.value.path == str(datadir.endpoints)
    assert info.value.field is None
    assert str(info.value) == f"{datadir.endpoints} {reason}"
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, DataDirError)


BAD_FIELDS = [
    ({"rpc_url": 8545}, "rpc_url", "must be a URL string, not int"),
    ({"rpc_url": "127.0.0.1:8545"}, "rpc_url", "http:// or https://"),
    ({"rpc_url": "ftp://host/"}, "rpc_url", "http:// or https://"),
    ({"rpc_url": "http://"}, "rpc_url", "with a host"),
    ({"resolver_url": None}, "resolver_url", "must be a URL string, not NoneType"),
    ({"chain_id": "1337"}, "chain_id", "positive integer"),
    ({"chain_id": 0}, "chain_id", "positive integer"),
    ({"chain_id": True}, "chain_id", "positive integer"),
    ({"chain_id": 1.5}, "chain_id", "positive integer"),
    ({"contracts": ["0x" + "11" * 20]}, "contracts", "contract name to address"),
    ({"contracts": {"Consortium": "0x1234"}}, "contracts.Consortium", "20-byte hex address"),
    ({"contracts": {"Consortium": "11" * 20}}, "contracts.Consortium", "0x-prefixed"),
    ({"contracts": {"Consortium": 17}}, "contracts.Consortium", "20-byte hex address"),
    (
        {"contracts": {"Consortium": "0x" + "aA" * 20}},
        "contracts.Consortium",
        "wrong EIP-55 checksum",
    ),
    ({"contracts": {"Consortium": "0x" + "11" * 20 + "00"}}, "contracts.Consortium", "20-byte hex address"),
    ({"dev_account": "0x" + "11" * 20}, "dev_account", "must be an object"),
    (
        {"dev_account": {"address": KEY_ADDRESS, "keystore": "/k"}},
        "dev_account.password_file",
        "is missing",
    ),
    (
        {"dev_account": {"address": "nope", "keystore": "/k", "password_file": "/p"}},
        "dev_account.address",
        "address",
    ),
    (
        {"dev_account": {"address": KEY_ADDRESS, "keystore": "", "password_file": "/p"}},
        "dev_account.keystore",
        "non-empty path",
    ),
    (
        {"dev_account": {"address": KEY_ADDRESS, "keystore": "/k", "password_file": 3}},
        "dev_account.password_file",
        "non-empty path",
    ),
]


@pytest.mark.parametrize(("fields", "field", "reason"), BAD_FIELDS)
def test_read_names_the_file_and_the_bad_field(datadir, fields, field, reason):
    datadir.ensure()
    datadir.endpoints.write_text(json.dumps({"chain_id": 1, **fields}))
    with pytest.raises(EndpointsError, match=reason) as info:
        read_endpoints(datadir.endpoints)
    assert info.value.path == str(datadir.endpoints)
    assert info.value.field == field
    assert str(info.value).startswith(f"{datadir.endpoints}: field {field!r} ")


@pytest.mark.parametrize(("fields", "field", "reason"), BAD_FIELDS)
def test_update_refuses_a_bad_field_and_writes_nothing(datadir, fields, field, reason):
    update_endpoints(datadir.endpoints, chain_id=1)
    before = datadir.endpoints.read_bytes()
    with pytest.raises(EndpointsError, match=reason) as info:
        update_endpoints(datadir.endpoints, **fields)
    assert info.value.field == field
    assert datadir.endpoints.read_bytes() == before


def test_endpoints_error_pickles_with_its_attributes(datadir):
    error = pickle.loads(
        pickle.dumps(EndpointsError("/x/endpoints.json", "chain_id", "must be a positive integer"))
    )
    assert (error.path, error.field, error.reason) == (
        "/x/endpoints.json",
        "chain_id",
        "must be a positive integer",
    )
    assert str(error) == "/x/endpoints.json: field 'chain_id' must be a positive integer"


def test_update_refuses_an_unknown_field(datadir):
    with pytest.raises(EndpointsError, match=r"is not a field of endpoints\.json") as info:
        update_endpoints(datadir.endpoints, rpc_uri="http://127.0.0.1:8545")
    assert info.value.field == "rpc_uri"
    assert not datadir.endpoints.exists()


def test_update_over_a_malformed_file_leaves_it_for_a_human(datadir):
    datadir.ensure()
    datadir.endpoints.write_text('{"chain_id": "one"}')
    with pytest.raises(EndpointsError) as info:
        update_endpoints(datadir.endpoints, rpc_url="http://127.0.0.1:8545")
    assert info.value.field == "chain_id"
    assert datadir.endpoints.read_text() == '{"chain_id": "one"}'
