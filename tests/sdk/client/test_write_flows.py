"""Parts of a write, driven as a node would answer the client's flow (the flow is sans-I/O: it
yields each request and is sent the answer): receipt polling (short pauses first, the timeout
kept) and whether an account can pay for a bulk chunk's whole gas bound."""

from __future__ import annotations

import pytest

from idfuse_sdk.client import IdfuseClient
from idfuse_sdk.client.ops import Rpc, Sleep
from idfuse_sdk.exceptions import TransactionTimeoutError

CONTRACTS = {
    name: "0x" + f"{n:040x}"
    for n, name in enumerate(("Consortium", "PrefixRegistry", "IdentifierRegistry"), 1)
}
TX = "0x" + "ab" * 32
RECEIPT = {"transactionHash": TX, "blockNumber": "0x5", "status": "0x1", "logs": []}


def pauses(client: IdfuseClient, answers_before_receipt: int) -> list[float]:
    """The pauses the flow asks for while the node has no receipt ``answers_before_receipt`` times."""
    flow = client._wait_receipt(TX, "write")
    slept: list[float] = []
    misses = 0
    op = next(flow)
    while True:
        if isinstance(op, Sleep):
            slept.append(op.seconds)
            answer = None
        else:
            assert op == Rpc("eth_getTransactionReceipt", [TX])
            found = misses >= answers_before_receipt
            misses += 1
            answer = {"jsonrpc": "2.0", "id": 1, "result": RECEIPT if found else None}
        try:
            op = flow.send(answer)
        except StopIteration as stop:
            receipt = stop.value
            break
    assert receipt == RECEIPT
    return slept


def test_first_polls_come_quickly_then_at_the_interval():
    with IdfuseClient("http://127.0.0.1:9", contracts=CONTRACTS, poll_interval=0.05) as client:
        assert pauses(client, 0) == []
        assert pauses(client, 7) == [0.005, 0.01, 0.02, 0.04, 0.05, 0.05, 0.05]


def test_an_interval_below_the_first_pause_is_kept():
    with IdfuseClient("http://127.0.0.1:9", contracts=CONTRACTS, poll_interval=0.001) as client:
        assert pauses(client, 3) == [0.001, 0.001, 0.001]


def test_the_timeout_counts_the_pauses():
    with IdfuseClient("http://127.0.0.1:9", contracts=CONTRACTS, poll_interval=0.05, timeout=0.2) as client:
        with pytest.raises(TransactionTimeoutError) as caught:
            pauses(client, 10**6)
        assert caught.value.tx_hash == TX


def answered(flow, answers):
    """Run ``flow``, answering its requests from ``answers`` (method -> result) in turn."""
    asked = []
    try:
        op = next(flow)
        while True:
            asked.append(op.method)
            op = flow.send({"jsonrpc": "2.0", "id": 1, "result": answers[op.method]})
    except StopIteration as stop:
        return stop.value, asked


GAS = 1_000_000


@pytest.mark.parametrize(
    ("balance", "fees", "affordable", "asked"),
    [
        (0, {"gasPrice": 0}, True, []),  # a free-gas consortium chain: nothing to ask
        (0, {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0, "type": 2}, True, []),
        (GAS * 10**9, {"gasPrice": 10**9}, True, ["eth_getBalance"]),  # exactly enough
        (GAS * 10**9 - 1, {"gasPrice": 10**9}, False, ["eth_getBalance"]),
        (
            GAS * 2 * 10**9,
            {"maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 1, "type": 2},
            True,
            ["eth_getBalance"],
        ),
        (
            GAS * 10**9,
            {"maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 1, "type": 2},
            False,
            ["eth_getBalance"],
        ),
    ],
)
def test_an_account_must_pay_for_the_whole_bound(balance, fees, affordable, asked):
    # the highest price the fees allow counts: maxFeePerGas, not what a block will charge
    with IdfuseClient("http://127.0.0.1:9", contracts=CONTRACTS) as client:
        flow = client._affordable("0x" + "11" * 20, GAS, fees)
        assert answered(flow, {"eth_getBalance": hex(balance)}) == (affordable, asked)
