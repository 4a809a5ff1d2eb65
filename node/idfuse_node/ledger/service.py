"""The development ledger as a service: a data directory initialised on first start, the chain
opened and its registry contracts deployed, and the transaction pool, the block producer and the
JSON-RPC server running until :meth:`LedgerService.stop`.

``idfuse ledger start`` runs it alone; :class:`~idfuse_node.fusion.node.FusionNode` runs it
beside the indexer and the resolver. Both write what :meth:`LedgerService.endpoints` returns
into ``endpoints.json``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Final

from eth_keys.datatypes import PrivateKey
from eth_utils.address import to_checksum_address

from idfuse_node.datadir import DataDir, Endpoints
from idfuse_node.defaults import DEFAULT_CHAIN_ID
from idfuse_node.exceptions import ServiceStartError

if TYPE_CHECKING:
    from idfuse_node.ledger.chain import Ledger
    from idfuse_node.ledger.producer import BlockProducer
    from idfuse_node.rpc import RpcContext, RpcServer

__all__ = ["DEFAULT_CHAIN_ID", "FUNDING_WEI", "GAS_LIMIT", "LedgerService", "init_data_dir"]

FUNDING_WEI: Final = 10**6 * 10**18
"""What the genesis gives the development account and the validator: a million ether."""
GAS_LIMIT: Final = 1_000_000_000
HEAD_LOCK_SECONDS: Final = 1.0
"""How long :meth:`LedgerService.head_number` waits for a block being stored."""

log = logging.getLogger("idfuse.ledger")


def init_data_dir(data_dir: DataDir, *, chain_id: int, block_period: int) -> tuple[str, str]:
    """Write a fresh genesis and the validator and development accounts into ``data_dir``.

    Returns (validator address, development account address).

    :raises GenesisError: ``chain_id`` or ``block_period`` is out of range.
    :raises KeystoreError, OSError: a file could not be written.
    """
    from idfuse_node.ledger.genesis import GenesisConfig

    data_dir.ensure()
    validator = data_dir.create_validator_account()
    dev = data_dir.create_dev_account()
    genesis = GenesisConfig(
        chain_id=chain_id,
        validators=(bytes.fromhex(validator[2:]),),
        alloc={bytes.fromhex(validator[2:]): FUNDING_WEI, bytes.fromhex(dev[2:]): FUNDING_WEI},
        gas_limit=GAS_LIMIT,
        block_period_seconds=block_period,
        timestamp=int(time.time()),
    )
    genesis.save(data_dir.genesis)
    data_dir.genesis.chmod(0o600)
    return validator, dev


class LedgerService:
    """The ledger of an initialised data directory, served over JSON-RPC on ``host:port``.

    :param directory: The data directory (it must hold a genesis and both accounts).
    :param port: The JSON-RPC port (0: any free port; :attr:`url` says which once started).
    :param block_period: Seconds between blocks; the genesis period when ``None``.
    """

    def __init__(
        self, directory: DataDir, *, host: str = "127.0.0.1", port: int = 0, block_period: float | None = None
    ) -> None:
        self.directory = directory
        self.host = host
        self.port = port
        self.block_period = block_period
        self.ledger: Ledger | None = None
        self.contracts: dict[str, str] = {}
        """Registry contract name → checksummed address, once started."""
        self.dev_address = ""
        self._context: RpcContext | None = None
        self._producer: BlockProducer | None = None
        self._server: RpcServer | None = None

    @property
    def url(self) -> str:
        """The JSON-RPC URL (once started)."""
        if self._server is None:
            raise RuntimeError("the ledger service has not started")
        return self._server.url

    @property
    def chain_id(self) -> int:
        """The chain id (once started)."""
        if self.ledger is None:
            raise RuntimeError("the ledger service has not started")
        return self.ledger.genesis.chain_id

    def start(self) -> None:
        """Open the chain, deploy the registries on first start, start producing and serving.

        On failure everything started so far is stopped again and the database closed.

        :raises ServiceStartError: the JSON-RPC server did not start (port in use).
        :raises IdfuseNodeError: the chain could not be opened (locked, corrupt, other genesis)
            or the registries could not be deployed.
        :raises KeystoreError: an account's keystore is missing or damaged.
        """
        from idfuse_node.ledger.bootstrap import bootstrap_registries
        from idfuse_node.ledger.chain import Ledger
        from idfuse_node.ledger.genesis import GenesisConfig
        from idfuse_node.ledger.producer import BlockProducer
        from idfuse_node.ledger.txpool import TxPool
        from idfuse_node.rpc import RpcContext, RpcServer

        directory = self.directory
        genesis = GenesisConfig.load(directory.genesis)
        validator_key = PrivateKey(bytes(directory.load_validator_account().key))
        self.dev_address = directory.load_dev_account().address
        log.info("opening the chain in %s", directory.chain_db)
        self.ledger = ledger = Ledger.open(directory.root, genesis, validator_key)
        try:
            contracts = bootstrap_registries(ledger, validator_key, [bytes.fromhex(self.dev_address[2:])])
            log.info("registry contracts ready at block %d", ledger.head().block_number)
            self.contracts = {name: to_checksum_address(address) for name, address in contracts.items()}
            self._context = context = RpcContext(ledger)
            pool = TxPool(ledger, contracts["Consortium"])
            context.pool = pool
            self._producer = BlockProducer(ledger, pool, self.block_period, lock=context.lock)
            server = RpcServer(context, host=self.host, port=self.port)
            try:
                server.start()
            except RuntimeError as error:
                raise ServiceStartError(f"{error} (is the port in use?)") from None
            self._server = server
            self._producer.start()
        except BaseException:
            self.stop()
            raise

    def endpoints(self) -> Endpoints:
        """What ``endpoints.json`` says about this ledger (once started)."""
        return Endpoints(
            rpc_url=self.url,
            chain_id=self.chain_id,
            contracts=dict(self.contracts),
            dev_account=self.directory.dev_account_endpoint(self.dev_address),
        )

    def head_number(self) -> int | None:
        """The head block's number; ``None`` when stopped or a block is being stored for long."""
        ledger, context = self.ledger, self._context
        if ledger is None or context is None or not context.lock.acquire(timeout=HEAD_LOCK_SECONDS):
            return None
        try:
            return int(ledger.head().block_number)
        finally:
            context.lock.release()

    def stop(self) -> None:
        """Stop producing, stop serving, close the chain; idempotent."""
        producer, self._producer = self._producer, None
        if producer is not None:
            producer.stop()
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        ledger, self.ledger = self.ledger, None
        self._context = None
        if ledger is not None:
            ledger.close()
