"""A py-evm chain (eth-tester backend, London rules as the ledger runs) with the registry
deployed, and helpers to assert exact custom errors."""

from __future__ import annotations

import ast
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth.vm.forks import LondonVM
from eth_abi import decode as abi_decode
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import function_signature_to_4byte_selector
from eth_utils.abi import get_abi_output_types
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import ContractCustomError, ContractLogicError
from web3.providers.eth_tester import EthereumTesterProvider

from idfuse_sdk.contracts.artifacts import load

TEST_ARTIFACTS = Path(__file__).parent / "artifacts"
GAS_LIMIT = 1_000_000_000
VOTING_PERIOD = 7 * 24 * 3600
ROLE_VALIDATOR, ROLE_MEMBER, ROLE_AUDITOR = 1, 2, 3
NONE, ACTIVE, SUSPENDED, REVOKED = 0, 1, 2, 3  # IPrefixRegistry.Status
ZERO32 = bytes(32)
ZERO_ADDRESS = "0x" + "00" * 20


def _comparable(value: Any) -> Any:
    """eth-abi decodes addresses in lower case; compare them case-insensitively."""
    if isinstance(value, str) and value.startswith("0x") and len(value) == 42:
        return value.lower()
    if isinstance(value, (list, tuple)):
        return tuple(_comparable(v) for v in value)
    return value


def _abi_type(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


@dataclass
class Chain:
    """The deployed registry on one eth-tester chain."""

    tester: EthereumTester
    w3: Web3
    accounts: list[str]
    consortium: Contract
    prefixes: Contract
    identifiers: Contract
    errors: dict[bytes, tuple[str, list[str]]] = field(default_factory=dict)

    @property
    def admin(self) -> str:
        return self.accounts[0]

    def deploy(self, name: str, *args: Any, artifact_dir: Path | None = None) -> Contract:
        """Deploy a contract from the package artifacts (or a test harness)."""
        if artifact_dir is not None:
            document = json.loads((artifact_dir / f"{name}.json").read_text())
            abi, bytecode = document["abi"], document["bytecode"]
        else:
            artifact = load(name)
            abi, bytecode = artifact.abi, artifact.bytecode
        self.learn_errors(abi)
        factory = self.w3.eth.contract(abi=abi, bytecode=bytecode)
        receipt = self.w3.eth.wait_for_transaction_receipt(
            factory.constructor(*args).transact({"from": self.admin, "gas": 30_000_000})
        )
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=abi)

    def harness(self, name: str, *args: Any) -> Contract:
        """Deploy a test harness from tests/contracts/artifacts."""
        return self.deploy(name, *args, artifact_dir=TEST_ARTIFACTS)

    def learn_errors(self, abi: list[dict[str, Any]]) -> None:
        for item in abi:
            if item["type"] == "error":
                types = [_abi_type(i) for i in item["inputs"]]
                selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
                self.errors[selector] = (item["name"], types)

    def decode_error(self, data: str | bytes) -> tuple[str, tuple[Any, ...]]:
        raw = bytes.fromhex(data[2:]) if isinstance(data, str) else bytes(data)
        name, types = self.errors[raw[:4]]
        return name, tuple(abi_decode(types, raw[4:]))

    def error_of(self, exc: BaseException) -> tuple[str, tuple[Any, ...]] | None:
        """The custom error (name, args) a revert carried, or None for a revert string or an
        empty revert. eth-tester raises TransactionFailed with the revert data itself; web3's
        eth-tester provider re-raises it as TransactionFailed("execution reverted: <repr>")."""
        if isinstance(exc, ContractCustomError):
            return self.decode_error(exc.data)  # type: ignore[arg-type]
        if not isinstance(exc, TransactionFailed) or not exc.args:
            return None
        raw = exc.args[0]
        if isinstance(raw, Exception) and raw.args:  # eth-tester sometimes wraps the error
            raw = raw.args[0]
        if isinstance(raw, str):
            text = raw.removeprefix("execution reverted: ")
            try:
                raw = ast.literal_eval(text)
            except (ValueError, SyntaxError):  # a revert string, decoded by the provider
                return None
        if isinstance(raw, bytes) and len(raw) >= 4 and raw[:4] in self.errors:
            return self.decode_error(raw)
        return None

    def outcome(self, contract: Contract, name: str, *args: Any) -> tuple[str, tuple[Any, ...]]:
        """Call ``name`` with eth_call: ("ok", decoded outputs), or the custom error's name and
        arguments when it reverts. A revert without a custom error fails the test."""
        data = contract.encode_abi(name, list(args))
        try:
            output = self.tester.call({"from": self.admin, "to": contract.address, "data": data})
        except TransactionFailed as exc:
            decoded = self.error_of(exc)
            if decoded is None:
                raise AssertionError(f"{name} reverted without a custom error: {exc.args[0]!r}") from exc
            return decoded
        types = get_abi_output_types(contract.get_function_by_name(name).abi)
        return "ok", tuple(abi_decode(types, bytes.fromhex(output[2:])))

    @contextlib.contextmanager
    def reverts(self, name: str, *args: Any) -> Iterator[None]:
        """Assert the block raises custom error ``name`` with exactly ``args`` (when given)."""
        try:
            yield
        except (ContractCustomError, ContractLogicError, TransactionFailed) as exc:
            decoded = self.error_of(exc)
            if decoded is None:
                raise AssertionError(f"expected custom error {name}, got {exc!r}") from exc
            got, got_args = decoded
            assert got == name, f"expected {name}{args}, got {got}{got_args}"
            if args:
                assert _comparable(got_args) == _comparable(args), (
                    f"expected {name}{args}, got {got}{got_args}"
                )
        else:
            raise AssertionError(f"expected revert {name}{args}, but the call succeeded")

    def transact(self, fn: Any, sender: str, **tx: Any) -> Any:
        """Send ``fn`` from ``sender`` and return the receipt (estimating gas first, so a
        revert surfaces as the contract's custom error)."""
        tx = {"from": sender, **tx}
        tx.setdefault("gas", fn.estimate_gas(tx) + 100_000)
        receipt = self.w3.eth.wait_for_transaction_receipt(fn.transact(tx))
        assert receipt["status"] == 1
        return receipt

    def events(self, contract: Contract, name: str, receipt: Any) -> list[Any]:
        from web3.logs import DISCARD

        return list(getattr(contract.events, name)().process_receipt(receipt, errors=DISCARD))

    def now(self) -> int:
        """The time the next block will have at least: the latest block's, or the wall clock
        when no block was mined for a while (eth-tester stamps new blocks with the wall
        clock, so an expiry 100 s after a stale latest block may already be past on a slow
        machine)."""
        return max(int(self.w3.eth.get_block("latest")["timestamp"]), int(time.time()))

    def time_travel(self, seconds: int) -> None:
        self.tester.time_travel(self.now() + seconds)


def make_chain() -> Chain:
    """A fresh London-rules chain with Consortium, PrefixRegistry and IdentifierRegistry
    deployed and bound; accounts[0] is the bootstrap admin and a validator member."""
    genesis = PyEVMBackend.generate_genesis_params(overrides={"gas_limit": GAS_LIMIT})
    backend = PyEVMBackend(genesis_parameters=genesis, vm_configuration=((0, LondonVM),))
    tester = EthereumTester(backend)
    w3 = Web3(EthereumTesterProvider(tester))
    accounts = list(w3.eth.accounts)
    chain = Chain(tester=tester, w3=w3, accounts=accounts, consortium=None, prefixes=None, identifiers=None)  # type: ignore[arg-type]
    chain.consortium = chain.deploy("Consortium", accounts[0], "Bootstrap Org", ROLE_VALIDATOR, VOTING_PERIOD)
    chain.prefixes = chain.deploy("PrefixRegistry", chain.consortium.address)
    chain.identifiers = chain.deploy("IdentifierRegistry", chain.prefixes.address)
    chain.transact(chain.consortium.functions.bindRegistry(chain.prefixes.address), accounts[0])
    return chain
