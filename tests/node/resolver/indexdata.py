"""An index populated through the writer API for the resolver's tests: prefixes (a suspended
ancestor, an expired one, service records), handles (single, batch, deleted, without values),
a template, a batch with its Merkle tree, and history."""

from __future__ import annotations

from dataclasses import dataclass, field

from eth_utils import keccak

from idfuse_node.indexer import schema
from idfuse_node.indexer.records import (
    BatchRecordInfo,
    ChainBinding,
    HandleRecord,
    HistoryEntry,
    IndexedValue,
    PrefixRecord,
    Provenance,
    ServiceRecord,
    TemplateField,
    TemplateRecord,
)
from idfuse_node.indexer.store import IndexStore
from idfuse_node.indexer.writer import BlockWriter, write_batch_tree
from idfuse_sdk.encoding import template_id as make_template_id
from idfuse_sdk.identifiers import handle_key, prefix_node
from idfuse_sdk.merkle import leaf

CHAIN_ID = 1337
PREFIX_REGISTRY = "0x" + "11" * 20
IDENTIFIER_REGISTRY = "0x" + "22" * 20
OWNER = "0x" + "aB" * 20
OTHER_OWNER = "0x" + "Cd" * 20
BLOCK_TIME = 1_700_000_000
NOW = BLOCK_TIME + 1000
"""The checkpoint's block time."""
EXPIRED_AT = BLOCK_TIME + 500


def h32(seed: str) -> str:
    return "0x" + keccak(text=seed).hex()


def prov(block: int, log: int = 0, registry: str = IDENTIFIER_REGISTRY, **batch: int) -> Provenance:
    return Provenance(CHAIN_ID, registry, block, h32(f"block{block}"), h32(f"tx{block}.{log}"), log, **batch)


def value(index: int, type_: str, data: bytes, fmt: str = "string", permissions: int = 14, block: int = 2):
    return IndexedValue(
        index, type_, fmt, "0x" + data.hex(), 86400, permissions, BLOCK_TIME + block, prov(block)
    )


@dataclass
class Built:
    handles: dict[str, HandleRecord] = field(default_factory=dict)
    prefixes: dict[str, PrefixRecord] = field(default_factory=dict)
    template_id: str = ""
    batch_id: int = 1
    leaves: list[bytes] = field(default_factory=list)


def _prefix(
    name: str,
    *,
    owner: str = OWNER,
    status: str = "active",
    effective_status: str | None = None,
    effective_from: str | None = None,
    expiry: int = 0,
    effective_expiry: int | None = None,
    service: ServiceRecord | None = None,
) -> PrefixRecord:
    parent = name.rpartition(".")[0]
    return PrefixRecord(
        prefix=name,
        node="0x" + prefix_node(name).hex(),
        parent="0x" + prefix_node(parent).hex(),
        owner=owner,
        pending_owner=None,
        status=status,
        effective_status=effective_status or status,
        effective_from=effective_from,
        expiry=expiry,
        effective_expiry=expiry if effective_expiry is None else effective_expiry,
        operators=(),
        service=service,
        metadata_hash="0x" + "00" * 32,
        created=prov(1, registry=PREFIX_REGISTRY),
        provenance=prov(1, registry=PREFIX_REGISTRY),
    )


def _handle(
    prefix: str,
    suffix: str,
    values: tuple[IndexedValue, ...],
    *,
    deleted: bool = False,
    source: str = "single",
    provenance: Provenance | None = None,
) -> HandleRecord:
    node = prefix_node(prefix)
    last = provenance or prov(2)
    event = "IdentifierDeleted" if deleted else "BatchRecord" if source == "batch" else "IdentifierCreated"
    return HandleRecord(
        handle=f"{prefix}/{suffix}",
        prefix=prefix,
        suffix=suffix,
        handle_key="0x" + handle_key(node, suffix).hex(),
        prefix_node="0x" + node.hex(),
        template="0x" + "00" * 32,
        values=values,
        version=1,
        commitment=h32(f"c{prefix}/{suffix}"),
        source=source,
        deleted=deleted,
        created=last,
        provenance=last,
        event=event,
        timestamp=BLOCK_TIME + last.block_number,
    )


def populate(
    store: IndexStore,
    *,
    other_resolver: str | None = None,
    other_chain_prefix: bool = True,
    local_resolver: str | None = None,
    chain_id: int = CHAIN_ID,
) -> Built:
    """Write the test index into ``store`` as three blocks; the checkpoint's time is :data:`NOW`."""
    built = Built()
    prefixes = [
        _prefix("88"),
        _prefix("88.100", status="suspended", effective_from="88.100"),
        _prefix("88.100.1", effective_status="suspended", effective_from="88.100"),
        _prefix("88.200"),
        _prefix("88.200.5", expiry=EXPIRED_AT),
        _prefix(
            "88.300",
            service=ServiceRecord((local_resolver,) if local_resolver else (), chain_id, IDENTIFIER_REGISTRY),
        ),
        _prefix("89", owner=OTHER_OWNER),
    ]
    if other_resolver is not None:
        prefixes.append(
            _prefix("86", service=ServiceRecord((other_resolver,), chain_id, IDENTIFIER_REGISTRY))
        )
    if other_chain_prefix:
        prefixes.append(_prefix("87", service=ServiceRecord((), 99, "0x" + "33" * 20)))

    pn = _handle(
        "88.200",
        "PN-0001",
        (
            value(1, "URL", b"https://example.com/pn-0001"),
            value(2, "EMAIL", b"ops@example.com"),
            value(3, "BLOB", b"\x00\x01\xfe\xff", fmt="base64"),
            value(4, "DIGEST", b"\xde\xad\xbe\xef", fmt="hex"),
            value(5, "SECRET", b"admins only", permissions=12),
            value(6, "URL.mirror", b"https://mirror.example.com/pn-0001"),
        ),
    )
    handles = [
        pn,
        _handle("88.200", "DEL", (), deleted=True, provenance=prov(3, 1)),
        _handle("88.200", "EMPTY", ()),
        _handle("88.200", "a/b", (value(1, "URL", b"https://example.com/slash"),)),
        _handle("88.200", "零件 甲", (value(1, "URL", b"https://example.com/unicode"),)),
        _handle("88.100.1", "X", (value(1, "URL", b"https://example.com/x"),)),
        _handle("88.200.5", "Y", (value(1, "URL", b"https://example.com/y"),)),
        _handle("88.300", "S", (value(1, "URL", b"https://example.com/s"),)),
        _handle("87", "Z", (value(1, "URL", b"https://example.com/z"),)),
    ]
    if other_resolver is not None:
        handles.append(_handle("86", "R", (value(1, "URL", b"https://example.com/r"),)))

    batch_records = [
        _handle(
            "88.200",
            f"B-{i}",
            (value(1, "URL", f"https://example.com/b{i}".encode(), block=3),),
            source="batch",
            provenance=prov(3, 0, batch_id=1, record_index=i),
        )
        for i in range(3)
    ]
    built.leaves = [
        leaf(bytes.fromhex(r.handle_key[2:]), bytes.fromhex(r.commitment[2:])) for r in batch_records
    ]

    w = BlockWriter(store, 1, keccak(text="block1"), bytes(32), BLOCK_TIME + 1)
    w.put_record(
        schema.CHAIN_KEY,
        ChainBinding(
            chain_id, {"PrefixRegistry": PREFIX_REGISTRY, "IdentifierRegistry": IDENTIFIER_REGISTRY}
        ),
    )
    for record in prefixes:
        node = bytes.fromhex(record.node[2:])
        w.put_record(schema.prefix_record_key(node), record)
        w.put(schema.pname_key(record.prefix), node)
        w.put(schema.child_key(bytes.fromhex(record.parent[2:]), node), b"")
        w.put(schema.owner_key(bytes.fromhex(record.owner[2:]), node), b"")
        w.put_record(
            schema.phist_key(node, 1, 0),
            HistoryEntry(
                "PrefixRegistered",
                BLOCK_TIME + 1,
                record.created,
                {"prefix": record.prefix, "owner": record.owner},
            ),
        )
        built.prefixes[record.prefix] = record
    tid = make_template_id(prefix_node("88.200"), "part", 1)
    built.template_id = "0x" + tid.hex()
    w.put_record(
        schema.template_record_key(tid),
        TemplateRecord(
            built.template_id,
            "0x" + prefix_node("88.200").hex(),
            "88.200",
            "part",
            1,
            (TemplateField("URL", "string", True, 1, 256),),
            prov(1),
        ),
    )
    w.put(schema.ptemplate_key(prefix_node("88.200"), tid), b"")
    w.add_to_counts(prefixes=len(prefixes))
    w.commit()

    w = BlockWriter(store, 2, keccak(text="block2"), keccak(text="block1"), BLOCK_TIME + 2)
    for record in handles:
        _put_handle(w, record)
    w.commit()

    w = BlockWriter(store, 3, keccak(text="block3"), keccak(text="block2"), NOW)
    for record in batch_records:
        _put_handle(w, record)
    write_batch_tree(w, 1, built.leaves)
    w.put_record(
        schema.batch_record_key(1),
        BatchRecordInfo(
            1,
            "0x" + prefix_node("88.200").hex(),
            "88.200",
            OWNER,
            "0x" + _root(built.leaves).hex(),
            3,
            h32("records"),
            3,
            (),
            prov(3, 0),
        ),
    )
    w.add_to_counts(batches=1)
    w.commit()
    for record in handles + batch_records:
        built.handles[record.handle] = record
    return built


def _root(leaves: list[bytes]) -> bytes:
    from idfuse_sdk.merkle import root

    return root(leaves)


def _put_handle(w: BlockWriter, record: HandleRecord) -> None:
    """A handle as the indexer leaves it: its record (which holds its last change, here its
    only one, for the history) and its suffix entry."""
    key = bytes.fromhex(record.handle_key[2:])
    node = bytes.fromhex(record.prefix_node[2:])
    w.put_handle(key, record)
    w.put(schema.suffix_key(node, record.suffix), key)
    if not record.deleted:
        w.add_to_counter(schema.hcount_key(node), 1)
        w.add_to_counts(identifiers=1)
