"""py-evm objects as the JSON the execution-apis spec (and web3.py) expects: hex quantities,
0x-hex data, lowercase addresses."""

from __future__ import annotations

from typing import Any, NamedTuple

import rlp  # type: ignore[import-untyped]
from eth._utils.address import generate_contract_address
from eth.abc import BlockAPI, BlockHeaderAPI, LogAPI, ReceiptAPI, SignedTransactionAPI
from eth_typing import Address

from idfuse_node.ledger import rawrlp
from idfuse_sdk.hashing import keccak

DYNAMIC_FEE_TYPE = 2


def q(value: int) -> str:
    """A hex quantity."""
    return hex(value)


def h(value: bytes) -> str:
    """0x-hex data."""
    return "0x" + bytes(value).hex()


def tx_type(transaction: SignedTransactionAPI) -> int:
    type_id = getattr(transaction, "type_id", None)
    return 0 if type_id is None else int(type_id)


def effective_gas_price(transaction: SignedTransactionAPI, base_fee: int) -> int:
    """What the sender pays a unit of gas in a block with ``base_fee``."""
    if tx_type(transaction) == DYNAMIC_FEE_TYPE:
        return min(transaction.max_fee_per_gas, base_fee + transaction.max_priority_fee_per_gas)
    return transaction.gas_price


def format_transaction(
    transaction: SignedTransactionAPI, header: BlockHeaderAPI | None, index: int | None
) -> dict[str, Any]:
    """A transaction object; ``header`` and ``index`` place it in its block."""
    kind = tx_type(transaction)
    result: dict[str, Any] = {
        "blockHash": None if header is None else h(header.hash),
        "blockNumber": None if header is None else q(header.block_number),
        "transactionIndex": None if index is None else q(index),
        "hash": h(transaction.hash),
        "type": q(kind),
        "from": h(transaction.sender),
        "to": h(transaction.to) if transaction.to else None,
        "nonce": q(transaction.nonce),
        "gas": q(transaction.gas),
        "value": q(transaction.value),
        "input": h(transaction.data),
        "r": q(transaction.r),
        "s": q(transaction.s),
    }
    if kind == 0:
        result["gasPrice"] = q(transaction.gas_price)
        result["v"] = q(transaction.v)  # type: ignore[attr-defined]
        chain_id = transaction.chain_id
        if chain_id is not None:
            result["chainId"] = q(chain_id)
    else:
        result["chainId"] = q(transaction.chain_id or 0)
        result["v"] = q(transaction.y_parity)
        result["yParity"] = q(transaction.y_parity)
        result["accessList"] = [
            {"address": h(address), "storageKeys": [h(key.to_bytes(32, "big")) for key in keys]}
            for address, keys in transaction.access_list
        ]
        if kind == DYNAMIC_FEE_TYPE:
            result["maxFeePerGas"] = q(transaction.max_fee_per_gas)
            result["maxPriorityFeePerGas"] = q(transaction.max_priority_fee_per_gas)
            base_fee = None if header is None else getattr(header, "base_fee_per_gas", None)
            result["gasPrice"] = q(
                transaction.max_fee_per_gas
                if base_fee is None
                else effective_gas_price(transaction, base_fee)
            )
        else:
            result["gasPrice"] = q(transaction.gas_price)
    return result


def _block_object(
    header: BlockHeaderAPI, size: int, transactions: list[Any], uncles: list[str]
) -> dict[str, Any]:
    """A block object from its header and the parts that are not in the header."""
    result: dict[str, Any] = {
        "number": q(header.block_number),
        "hash": h(header.hash),
        "parentHash": h(header.parent_hash),
        "nonce": h(header.nonce),
        "mixHash": h(header.mix_hash),
        "sha3Uncles": h(header.uncles_hash),
        "logsBloom": h(header.bloom.to_bytes(256, "big")),
        "transactionsRoot": h(header.transaction_root),
        "stateRoot": h(header.state_root),
        "receiptsRoot": h(header.receipt_root),
        "miner": h(header.coinbase),
        "difficulty": q(header.difficulty),
        "totalDifficulty": q(header.block_number + 1),
        "extraData": h(header.extra_data),
        "size": q(size),
        "gasLimit": q(header.gas_limit),
        "gasUsed": q(header.gas_used),
        "timestamp": q(header.timestamp),
        "transactions": transactions,
        "uncles": uncles,
    }
    base_fee = getattr(header, "base_fee_per_gas", None)
    if base_fee is not None:
        result["baseFeePerGas"] = q(base_fee)
    return result


def format_block(block: BlockAPI, *, full: bool) -> dict[str, Any]:
    """A block object: ``hash`` is the QBFT hash, ``extraData`` holds the commit seals."""
    header = block.header
    transactions: list[Any] = [
        format_transaction(tx, header, index) if full else h(tx.hash)
        for index, tx in enumerate(block.transactions)
    ]
    uncles = [h(uncle.hash) for uncle in block.uncles]
    return _block_object(header, len(rlp.encode(block)), transactions, uncles)


def _rlp_list_size(payload: int) -> int:
    """Bytes of an RLP list whose items take ``payload`` bytes."""
    return payload + 1 + (0 if payload < 56 else (payload.bit_length() + 7) // 8)


def format_header_block(header: BlockHeaderAPI, encoded_transactions: list[bytes]) -> dict[str, Any]:
    """:func:`format_block` without full transactions, from the header and the block's encoded
    transactions (as the ledger stores them), for a block without uncles: no transaction object
    is built, a transaction's hash is keccak of its encoding and the size is summed."""
    # In a block's RLP a legacy transaction is its list, a typed one a string of its encoding.
    body = sum(len(tx) if tx[0] >= 0xC0 else len(rlp.encode(tx)) for tx in encoded_transactions)
    size = _rlp_list_size(len(rlp.encode(header)) + _rlp_list_size(body) + _rlp_list_size(0))
    hashes: list[Any] = ["0x" + keccak(tx).hex() for tx in encoded_transactions]
    return _block_object(header, size, hashes, [])


def format_log(
    log: LogAPI, header: BlockHeaderAPI, transaction: SignedTransactionAPI, tx_index: int, log_index: int
) -> dict[str, Any]:
    """A log object, placed in its block and transaction."""
    return {
        "address": h(log.address),
        "topics": [h(topic.to_bytes(32, "big")) for topic in log.topics],
        "data": h(log.data),
        "blockNumber": q(header.block_number),
        "blockHash": h(header.hash),
        "transactionHash": h(transaction.hash),
        "transactionIndex": q(tx_index),
        "logIndex": q(log_index),
        "removed": False,
    }


def format_receipt(
    block: BlockAPI, receipts: tuple[ReceiptAPI, ...], index: int, first_log: int
) -> dict[str, Any]:
    """The receipt of ``block``'s transaction at ``index``, given all the block's receipts and
    the block-wide index of its first log."""
    header = block.header
    transaction = block.transactions[index]
    receipt = receipts[index]
    previous = receipts[index - 1].gas_used if index else 0
    contract = None
    if not transaction.to:
        contract = h(generate_contract_address(Address(transaction.sender), transaction.nonce))
    return {
        "transactionHash": h(transaction.hash),
        "transactionIndex": q(index),
        "blockHash": h(header.hash),
        "blockNumber": q(header.block_number),
        "from": h(transaction.sender),
        "to": h(transaction.to) if transaction.to else None,
        "cumulativeGasUsed": q(receipt.gas_used),
        "gasUsed": q(receipt.gas_used - previous),
        "effectiveGasPrice": q(effective_gas_price(transaction, getattr(header, "base_fee_per_gas", 0))),
        "contractAddress": contract,
        "logs": [
            format_log(log, header, transaction, index, first_log + offset)
            for offset, log in enumerate(receipt.logs)
        ],
        "logsBloom": h(receipt.bloom.to_bytes(256, "big")),
        "type": q(tx_type(transaction)),
        "status": q(1 if receipt.state_root == b"\x01" else 0),
    }


class BlockLog(NamedTuple):
    """One log of a final block: what ``eth_getLogs`` filters on and the log object it answers."""

    address: bytes
    topics: tuple[bytes, ...]
    json: dict[str, Any]


def block_logs(
    header: BlockHeaderAPI, encoded_transactions: list[bytes], encoded_receipts: list[bytes]
) -> tuple[BlockLog, ...]:
    """Every log of block ``header`` as :func:`format_log` would give it, straight from the
    block's encoded transactions and receipts (as the ledger stores them): no transaction or
    receipt object is built, a transaction's hash is keccak of its encoding."""
    number = q(header.block_number)
    block_hash = h(header.hash)
    found: list[BlockLog] = []
    for tx_index, (transaction, receipt) in enumerate(
        zip(encoded_transactions, encoded_receipts, strict=True)
    ):
        # A typed receipt is its type byte and then the RLP list; a legacy one the list alone.
        fields = rawrlp.decode(receipt if receipt[0] >= 0xC0 else receipt[1:])
        logs = fields[3]
        if not logs:
            continue
        tx_hash = "0x" + keccak(transaction).hex()
        index = hex(tx_index)
        for address, topics, data in logs:
            found.append(
                BlockLog(
                    address,
                    tuple(topics),
                    {
                        "address": "0x" + address.hex(),
                        "topics": ["0x" + topic.hex() for topic in topics],
                        "data": "0x" + data.hex(),
                        "blockNumber": number,
                        "blockHash": block_hash,
                        "transactionHash": tx_hash,
                        "transactionIndex": index,
                        "logIndex": hex(len(found)),
                        "removed": False,
                    },
                )
            )
    return tuple(found)
