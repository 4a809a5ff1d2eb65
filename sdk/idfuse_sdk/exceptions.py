"""The SDK's exception hierarchy: every error the SDK raises derives from IdfuseError."""

from __future__ import annotations


class IdfuseError(Exception):
    """Root of every idfuse SDK error; catch this to handle them all."""


class ValidationError(IdfuseError, ValueError):
    """An input breaks a rule of docs/data-model.md (a prefix, suffix, value, template or
    batch). The message names the input and the rule; fix the input and retry."""


class EncodingError(IdfuseError, ValueError):
    """Bytes are not a canonical encoding (truncated, trailing bytes, out of order). Raised
    when decoding values or batch records read from the chain or an untrusted source."""


class ArtifactNotFoundError(IdfuseError, LookupError):
    """A compiled contract is not shipped with this package; reinstall idfuse."""


class QbftError(IdfuseError):
    """Root of the QBFT header errors (``idfuse_sdk.qbft``): a header, its extraData or its
    commit seals do not hold up. Catch this to treat any of them as "not a final block"."""


class QbftExtraDataError(QbftError, EncodingError):
    """A header's extraData is not a strict QBFT encoding: not RLP, trailing bytes, a vanity
    that is not 32 bytes, a validator or vote recipient that is not 20 bytes, a vote that is
    neither add (0xff) nor drop (empty), a round that is not a minimal unsigned integer below
    2**31, or a commit seal that is not 65 bytes ending in recovery id 0 or 1. Raised when
    decoding a header read from a chain or a peer; the block is not a valid QBFT block."""


class QbftHeaderError(QbftError, ValueError):
    """A header object lacks a field, holds one of the wrong size or type, or carries fields of
    a fork after London (withdrawals, blobs) that idfuse's ledger never produces: pass a py-evm
    ``BlockHeader``/``LondonBlockHeader``, a JSON-RPC block or :class:`~idfuse_sdk.qbft.HeaderFields`.
    Also raised by ``verify_header`` when a well-formed header breaks a QBFT rule: a mix hash or
    difficulty other than QBFT's, a proposer outside the validators, or a reported ``hash`` that
    is not the QBFT block hash (the node is not serving QBFT headers as Besu hashes them)."""


class QbftSealError(QbftError):
    """The commit seals do not finalise the block. Base of the specific seal errors below; raised
    as itself when a seal is not a recoverable secp256k1 signature."""


class QbftDuplicateSealError(QbftSealError):
    """Two commit seals recover to the same validator; Besu rejects such a header outright."""


class QbftUnknownSignerError(QbftSealError):
    """A commit seal recovers to an address outside the validator set given for the block (the
    set after its parent); check that you passed the right validators."""


class QbftQuorumError(QbftSealError):
    """Fewer distinct validators committed the block than the quorum ``ceil(2n/3)``; the block is
    not final."""


class KeystoreError(IdfuseError):
    """Root of the key-handling errors (``idfuse_sdk.keystore``): an encrypted keystore, a
    password file or a raw private key could not be created or used. No message of this family
    ever contains a password or a private key; catch this to handle any of them."""


class KeystoreExistsError(KeystoreError):
    """A keystore or password file already exists at the path given; idfuse never overwrites
    one, because that would destroy the only copy of a key. Choose another path, or move the old
    file away yourself if you really mean to replace it."""


class KeystoreNotFoundError(KeystoreError):
    """No keystore or password file at the path given. Check the path (``--node DIR`` or
    ``IDFUSE_NODE`` for a node's files), or create the account first (``idfuse account new``)."""


class KeystoreFormatError(KeystoreError, ValueError):
    """A file is not an Ethereum v3 keystore (not JSON, a missing or malformed field, an
    unsupported cipher or KDF, an address that does not match the key inside), or a password
    file is empty or not UTF-8 text. The file is damaged or is not what the path suggests."""


class WrongPasswordError(KeystoreError, ValueError):
    """The password does not decrypt the keystore (its MAC does not match). Check that the
    password (file) belongs to this keystore; a trailing newline in a password file is ignored."""


class PrivateKeyError(KeystoreError, ValueError):
    """A raw private key (an argument or an environment variable such as
    ``IDFUSE_PRIVATE_KEY``) is missing or is not 64 hexadecimal digits (optionally ``0x``-
    prefixed) encoding a secp256k1 secret between 1 and the group order minus 1. The message
    names where the key came from, never the key."""


class DeployError(IdfuseError):
    """Deploying the registry contracts (``idfuse_sdk.deploy``, ``idfuse deploy``) failed: the
    deployer has no funds, the node refused a transaction, a receipt did not come in time, or a
    planned contract address already holds code. The message names the step and what is already
    on chain; steps before it stay mined, so deploy again from a fresh start if one failed."""


class DeployConnectionError(DeployError):
    """The JSON-RPC node cannot be reached or does not answer as an Ethereum node. Check the URL
    (``--rpc``) and that the node is running."""


class DeployRevertError(DeployError):
    """A deployment step reverts; ``step`` names it and the message decodes the contract's
    error (e.g. ``ConsortiumInvalidVotingPeriod(votingPeriod=60)``). Fix the argument it names."""

    def __init__(self, message: str, *, step: str) -> None:
        super().__init__(message)
        self.step = step


class ClientError(IdfuseError):
    """Root of the errors of the SDK client (``idfuse_sdk.client``): a chain or resolver could
    not be reached, refused a transaction, or a contract reverted. No message of this family
    ever contains a private key or a password; catch this to handle any of them."""


class ConnectionFailedError(ClientError):
    """The JSON-RPC node (or, where there is no fallback, the resolver) cannot be reached, timed
    out, or answered with something that is not JSON-RPC. The message names the URL; check it
    and that the node is running.

    ``tx_hash``: when the connection failed while a write was being sent or awaited, the signed
    transaction's hash (it may have reached the node and may still be mined: look it up before
    sending the write again); None when nothing was sent."""

    def __init__(self, message: str, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class TransactionRejectedError(ClientError):
    """The node refused a transaction or a request with a JSON-RPC error: the pool's message is
    kept as is (``sender not allowed by consortium: 0x…``, ``insufficient funds …``,
    ``nonce too low …``). ``code`` is the JSON-RPC error code. Fix what the message names, for
    instance have the Consortium add the sending account as a member."""

    def __init__(self, message: str, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransactionTimeoutError(ClientError):
    """A sent transaction was not included in a block in time. It may still be included later:
    ``tx_hash`` names it; look it up before sending it again."""

    def __init__(self, message: str, *, tx_hash: str) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class ContractRevertError(ClientError):
    """A contract call reverted: estimated before sending, or a mined transaction that failed
    (replayed with ``eth_call`` at its block to read why). Each custom error of the registry
    contracts has its own subclass, named like the error (``PrefixUnauthorized``,
    ``IdentifierStaleValues``, …; importable from this module or from
    ``idfuse_sdk.contracts.errors``), with the error's arguments as snake-case attributes and in
    ``arguments`` (ABI names). A revert that is no registry error (``Error(string)``, a panic,
    no data) is this class itself. ``tx_hash`` is set when a mined transaction failed."""

    error_name: str = ""
    """The custom error's name; empty for a revert that is not a registry error."""
    contract: str = ""
    """The contract that declares the error."""

    def __init__(
        self, message: str, *, data: bytes = b"", arguments: dict[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.data = data
        self.arguments: dict[str, object] = dict(arguments or {})
        self.tx_hash: str | None = None


class NotFoundError(ClientError, LookupError):
    """A handle (or prefix) is not registered, was deleted, or its prefix is not live, as the
    resolver (Handle response code 100) or the chain says."""


class ResolverError(ClientError):
    """The resolver answered a request with an error other than "not found" (a malformed handle,
    a referral the client does not follow) or with a body it cannot read. The message carries
    the resolver's ``responseCode`` and message."""


class ChainDataError(ClientError):
    """Values read from the chain's events do not match the on-chain commitment, or an event
    cannot be decoded: the node serving JSON-RPC is faulty or not what it claims."""


class ProofError(ClientError):
    """An EIP-1186 proof does not hold: a node missing from the path to the key, a node that is
    not RLP, or a proven value that does not decode (``idfuse_sdk.proofs``). ``verify`` reports
    it as a failed check; raised as such only by the proof helpers themselves."""


class TrustAnchorError(ClientError):
    """The chain does not match the trust anchor an auditor pinned: its genesis hash differs,
    or its validator set changed since the pinned one. Pin the right anchor
    (``TrustAnchor(validators=..., genesis_hash=...)``) after checking it out of band."""


class BulkSourceError(ValidationError):
    """A row of a bulk-registration file (CSV or JSONL) breaks a rule; ``line`` is its line
    number (1-based; 0 for the file as a whole). Nothing was sent."""

    def __init__(self, message: str, line: int = 0) -> None:
        super().__init__(f"line {line}: {message}" if line else message)
        self.line = line


class JournalError(ClientError):
    """A bulk registration's journal cannot be read or written, or belongs to another prefix."""


class RoutingError(ClientError):
    """A client holding several chains cannot send a prefix's subtree where the home chain's
    service record says it is served: the record names a chain whose held deployment has
    another IdentifierRegistry. ``prefix`` is the prefix whose record decided, ``chain_id`` and
    ``registry`` what the record names."""

    def __init__(self, message: str, *, prefix: str, chain_id: int, registry: str) -> None:
        super().__init__(message)
        self.prefix = prefix
        self.chain_id = chain_id
        self.registry = registry


class UnknownChainError(RoutingError):
    """A prefix's service record names a chain this client does not hold. Add it:
    ``chains={chain_id: Chain(rpc_url, contracts=...)}`` or ``from_endpoints([home, other])``."""


class ChainMismatchError(RoutingError):
    """The node a client was given for chain ``chain_id`` serves another chain id."""


def __getattr__(name: str) -> type[ContractRevertError]:
    """The generated custom-error classes (``PrefixUnauthorized``, …) live in
    ``idfuse_sdk.contracts.errors``; they are importable from here too."""
    if name.startswith("__"):
        # The import system probes modules for ``__path__`` and the like; answering those by
        # importing the errors module would import the artifacts module half-initialised.
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from idfuse_sdk.contracts import errors  # a late import: errors reads the artifacts

    found = errors.ERRORS_BY_NAME.get(name)
    if found is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return found
