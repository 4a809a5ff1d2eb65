"""The node's exceptions: one root, :class:`IdfuseNodeError`, and a subtree per concern.

Each exception's docstring says when it is raised and how to fix what caused it. Catch
:class:`IdfuseNodeError` to handle every failure the node reports on purpose.
"""


class IdfuseNodeError(Exception):
    """Root of every exception the idfuse node raises deliberately."""


class StorageError(IdfuseNodeError):
    """The node's on-disk storage could not be opened, read or written.

    Raised only through one of the subclasses below, which say what went wrong; catch this
    class to handle every storage failure at once.
    """


class StorageLockedError(StorageError):
    """Another process (or another handle in this process) holds the database's lock.

    Raised when opening a LevelDB directory whose ``LOCK`` file is held: LevelDB allows a
    single writer. Fix: stop the other idfuse command (a node, ledger, indexer or resolver)
    using the same directory, or give this one its own ``--data-dir``.
    """


class StorageCorruptError(StorageError):
    """The data directory is damaged, or is not a database this node wrote.

    Raised when LevelDB reports corruption, and when the path exists but is not a LevelDB
    directory (a file, or a non-empty directory without a ``CURRENT`` file); the node
    refuses rather than create an empty database over someone else's files. Fix: point
    the node at the right directory, or restore the directory from a backup.
    """


class StorageUnavailableError(StorageError):
    """The storage cannot be used: permission denied, missing parent, full or failing disk,
    or the handle has been closed.

    Raised when opening, reading or writing fails for a reason outside the database's
    content. Fix: check that the data directory's parent exists, that the node's user may
    read and write it, and that the disk has room; do not use a handle after ``close()``.
    """


class LedgerError(IdfuseNodeError):
    """The ledger refused a genesis, a block or a consensus message.

    Raised only through the subclasses below; catch this class to handle every ledger refusal.
    """


class GenesisError(LedgerError, ValueError):
    """A genesis config or file is malformed.

    Raised when building :class:`idfuse_node.ledger.genesis.GenesisConfig` or reading a genesis
    file. Fix: give a positive chain id and gas limit, at least one distinct validator address,
    and non-negative balances; or open the data directory with the genesis it was created with.
    """


class ConsensusError(LedgerError):
    """A QBFT message or block does not fit the round it was given to.

    Raised when a prepare or commit names another height, round or block than the proposal,
    comes from a non-validator, or when a block is finalised before a quorum committed it.
    Fix: it is a bug in the caller (one validator) or a faulty peer (several).
    """


class DataDirError(IdfuseNodeError):
    """The node's data directory, or a file in it, is not what the node expects.

    Raised only through the subclasses below; catch this class to handle every data-directory
    failure. Keystore and password-file failures are the SDK's
    :class:`idfuse_sdk.exceptions.KeystoreError`, since the SDK owns keys.
    """


class EndpointsNotFoundError(DataDirError):
    """The data directory has no ``endpoints.json`` yet.

    Raised when reading the endpoints of a node that has never started. Fix: start the node
    (``idfuse node start --data-dir DIR`` or ``idfuse ledger start --data-dir DIR``), or point
    at the right directory (``--node DIR``, ``IDFUSE_NODE``).
    """


class EndpointsError(DataDirError, ValueError):
    """``endpoints.json`` (or a value written to it) is malformed: not JSON, not an object, or a
    field of the wrong type (a URL that is not http(s), a chain id that is not a positive
    integer, an address that is not 20 bytes of hex, a missing ``dev_account`` entry).

    Raised by :func:`idfuse_node.datadir.read_endpoints` and ``update_endpoints``. The
    ``path`` attribute names the file and ``field`` the offending field (dotted, such as
    ``contracts.Consortium``; ``None`` when the whole file is at fault). Fix: restart the node
    so that it rewrites the file, or correct the field by hand.
    """

    def __init__(self, path: str, field: str | None, reason: str) -> None:
        self.path = path
        self.field = field
        self.reason = reason
        where = path if field is None else f"{path}: field {field!r}"
        super().__init__(f"{where} {reason}")

    def __reduce__(self) -> "tuple[type[EndpointsError], tuple[str, str | None, str]]":
        return (type(self), (self.path, self.field, self.reason))


class BootstrapError(LedgerError):
    """The registry contracts could not be deployed in the chain's first block.

    Raised by :func:`idfuse_node.ledger.bootstrap.bootstrap_registries` when the deployer has
    already sent transactions (the contract addresses follow from its nonces 0, 1 and 2) or a
    bootstrap transaction would revert; nothing is stored then. Fix: bootstrap a fresh chain
    from an account the genesis funds and that has sent nothing yet.
    """


class TxPoolError(IdfuseNodeError):
    """The transaction pool refused a raw transaction; nothing changed in the pool.

    ``code`` is the JSON-RPC error code (-32000, as the Ethereum execution-apis specification
    and geth answer ``eth_sendRawTransaction`` refusals) and ``message`` says why, phrased as
    geth and Besu phrase it. Raised by :meth:`idfuse_node.ledger.txpool.TxPool.add` only
    through the subclasses below.
    """

    code: int = -32000

    def __init__(self, message: str, code: int | None = None) -> None:
        if code is not None:
            self.code = code
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> "tuple[type[TxPoolError], tuple[str, int]]":
        return (type(self), (self.message, self.code))


class TxMalformedError(TxPoolError):
    """The bytes are not a signed legacy, EIP-2930 or EIP-1559 transaction, or its signature
    or fee fields are invalid (a tip above the fee cap). Fix: sign the transaction again."""


class TxWrongChainError(TxPoolError):
    """The transaction is signed for another chain id, or without one (pre-EIP-155). Fix: sign
    with the chain id ``eth_chainId`` returns."""


class TxNonceTooLowError(TxPoolError):
    """The sender has already used the transaction's nonce. Fix: take the next nonce from
    ``eth_getTransactionCount(sender, "pending")``."""


class TxUnderpricedError(TxPoolError):
    """The fee cap is below the next block's base fee, or the transaction replaces a pooled
    one (same sender and nonce) without raising both its fee cap and tip by at least 10 %.
    Fix: raise the fees."""


class TxInsufficientFundsError(TxPoolError):
    """The sender's balance cannot pay gas * fee cap + value. Fix: fund the sender, or lower
    the gas, fee cap or value."""


class TxNotAllowedError(TxPoolError):
    """The sender is neither a genesis validator nor allowed by ``Consortium.isAllowedSender``.
    Fix: have the consortium admit the account (a member proposal), or send from a member."""


class TxTooLargeError(TxPoolError):
    """The raw transaction is larger than the pool's per-transaction limit (4 MiB by default).
    Fix: split the batch into several transactions."""


class TxGasLimitError(TxPoolError):
    """The transaction's gas is below its intrinsic gas or above the block gas limit. Fix:
    estimate the gas with ``eth_estimateGas``; split work that cannot fit in one block."""


class TxAlreadyKnownError(TxPoolError):
    """The pool holds this very transaction already. Nothing to fix: wait for its receipt."""


class TxPoolFullError(TxPoolError):
    """The pool holds as many transactions as it may. Fix: retry once blocks have drained it."""


class IndexerError(IdfuseNodeError):
    """The indexer could not follow its chain or write its index.

    Raised only through the subclasses below; catch this class to handle every indexer failure.
    """


class ChainSourceError(IndexerError):
    """The chain's JSON-RPC endpoint failed: unreachable after the retries, or it answered
    with an error or a malformed result.

    Raised by :class:`idfuse_node.indexer.source.ChainSource`. Fix: check that the endpoint
    URL is right and the chain is up; the message names the method and what went wrong.
    """


class IndexChainMismatchError(IndexerError):
    """The index directory was built from another chain (chain id or registry addresses).

    Raised when an index is opened to follow a chain other than the one it records. Fix: give
    the indexer the data directory of that chain, or a fresh one for this chain.
    """


class IndexConsistencyError(IndexerError):
    """The chain contradicts the index in a way the rules do not allow: a block the finality
    rule made final was replaced, or a rollback needs undo logs that were pruned.

    Raised by the follower; on a QBFT chain (final by construction) it is an alarm. Fix: rebuild
    the index from scratch, and find out why the chain rewrote final blocks.
    """


class IndexCorruptError(IndexerError):
    """A stored record cannot be decoded: an index value is not the JSON (or fixed-width
    integer) the index schema says, or a key an index entry points to is missing.

    Raised by :mod:`idfuse_node.indexer.records` and the index's readers and writers. Fix: the
    index directory is damaged or was written by another version; rebuild it from the chain.
    """


class IndexLayoutError(IndexerError):
    """The index directory was written in an earlier layout of the index's keys and records.

    Raised when such an index is opened to be read or followed (an index is never read in a
    layout it was not written in). Fix: delete the index directory; the indexer rebuilds it
    from the chain, which is kept apart.
    """


class BlockWriterClosedError(IndexerError):
    """A :class:`idfuse_node.indexer.writer.BlockWriter` was used after ``commit()``.

    A writer holds one block's effects and commits them once. Fix: it is a bug in the caller;
    open a new writer for the next block.
    """


class EventDecodeError(IndexerError):
    """A log of a registry contract, with a topic the contract declares, could not be decoded
    (wrong topics, bad ABI data, values or template fields that break the data model, a
    commitment or handle key that does not match), or ``registerBatch`` calldata sent to the
    registry does not match its ``BatchRegistered`` event.

    Raised by :mod:`idfuse_node.indexer.events`. The contracts are idfuse's own, so this means
    the index follows the wrong contracts or there is a bug: the follower stops rather than
    index a partial truth. Fix: check the registry addresses the index is bound to.
    """


class BatchCalldataUnavailableError(IndexerError):
    """A batch was registered through another contract, so its records cannot be read from
    the transaction's input. ``batch_id`` and ``tx_hash`` name it.

    Raised by :func:`idfuse_node.indexer.events.decode_batch_call`. Not a failure of the
    index: the applier records the batch (root, count) without its records.
    """

    def __init__(self, batch_id: int, tx_hash: bytes, reason: str) -> None:
        self.batch_id = batch_id
        self.tx_hash = tx_hash
        self.reason = reason
        super().__init__(f"batch {batch_id} (transaction 0x{tx_hash.hex()}): {reason}")

    def __reduce__(self) -> "tuple[type[BatchCalldataUnavailableError], tuple[int, bytes, str]]":
        return (type(self), (self.batch_id, self.tx_hash, self.reason))


class ServiceStartError(IdfuseNodeError):
    """An HTTP server of the node (JSON-RPC, resolver) did not start: most often its port is
    taken by another process.

    Raised by :class:`idfuse_node.ledger.service.LedgerService` and
    :class:`idfuse_node.fusion.node.FusionNode`; whatever had started is stopped again. Fix:
    stop the other process or pick another port (0: any free port).
    """


class NodeNotRunningError(IdfuseNodeError):
    """No node answers at the URLs a data directory's ``endpoints.json`` names (or there is no
    such file).

    Raised by :func:`idfuse_node.fusion.status.node_status`. Fix: start the node
    (``idfuse node start``) or point at its ``--data-dir``.
    """
