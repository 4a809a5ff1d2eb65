"""eth_estimateGas answers the least gas the call succeeds with: the gas one execution used,
confirmed by a run at exactly that limit (py-evm's binary search only when that fails)."""

from eth_abi import encode
from eth_utils import keccak

from tests.node.rpc.conftest import CONTRACT, SENDER
from tests.node.rpc.test_errors import rpc


def test_the_estimate_is_the_least_gas_that_succeeds(chain):
    data = keccak(b"bootstrapAddMember(address,string,uint8)")[:4] + encode(
        ["address", "string", "uint8"], [b"\x44" * 20, "Estimated org", 1]
    )
    call = {"from": "0x" + SENDER.hex(), "to": "0x" + CONTRACT.hex(), "data": "0x" + data.hex()}
    gas = int(rpc(chain, "eth_estimateGas", [call, "latest"])["result"], 16)
    assert 21_000 < gas < 1_000_000
    assert "result" in rpc(chain, "eth_call", [{**call, "gas": hex(gas)}, "latest"])
    short = rpc(chain, "eth_call", [{**call, "gas": hex(gas - 1)}, "latest"])
    assert "OutOfGas" in short["error"]["message"]


def test_a_plain_transfer_is_21000(chain):
    call = {"from": "0x" + SENDER.hex(), "to": "0x" + "55" * 20, "value": "0x1"}
    assert rpc(chain, "eth_estimateGas", [call, "latest"])["result"] == hex(21_000)
