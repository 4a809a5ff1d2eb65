// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IIdentifierRegistry} from "./IIdentifierRegistry.sol";
import {IPrefixRegistry} from "./IPrefixRegistry.sol";
import {Records} from "../lib/Records.sol";
import {Templates} from "../lib/Templates.sol";
import {Utf8} from "../lib/Utf8.sol";
import {ValueCodec} from "../lib/ValueCodec.sol";

/// @title IdentifierRegistry
/// @notice Handles under live prefixes: one storage word and a version per handle, a Merkle
///         root and count per batch, and immutable data templates per prefix.
/// @dev `_commitments` must stay the first state variable: auditors prove a handle's word
///      at storage key keccak(handleKey ‖ uint256(0)) (docs/data-model.md). Writers are the
///      owner or an operator of a live prefix, as PrefixRegistry.requireWritable decides;
///      its errors (PrefixNotFound, PrefixInactive, PrefixExpired, PrefixUnauthorized)
///      reach the caller unchanged. Every input is copied to memory once and parsed there.
contract IdentifierRegistry is IIdentifierRegistry {
    using Templates for Templates.Template;

    /// @notice The storage word of a deleted handle.
    bytes32 internal constant TOMBSTONE = bytes32(uint256(1));

    /// @dev handle key → 0 (never written individually), TOMBSTONE, or the commitment. Slot 0.
    mapping(bytes32 handleKey => bytes32 word) private _commitments;
    /// @dev handle key → number of individual writes.
    mapping(bytes32 handleKey => uint64 version) private _versions;
    /// @dev batch id (from 1) → batch.
    mapping(uint256 batchId => Batch) private _batches;
    /// @dev number of batches registered.
    uint256 private _batchCount;
    /// @dev template id → template (prefixNode zero when unknown).
    mapping(bytes32 templateId => Templates.Template) private _templates;

    /// @dev The PrefixRegistry deciding who may write under which prefix.
    IPrefixRegistry private immutable _prefixRegistry;

    /// @dev Reverts unless `msg.sender` may write under the live prefix `prefixNode`.
    modifier onlyWriter(bytes32 prefixNode) {
        _checkWriter(prefixNode);
        _;
    }

    /// @notice Binds the registry to its PrefixRegistry, for good.
    /// @param prefixRegistry_ The PrefixRegistry address.
    constructor(address prefixRegistry_) {
        _prefixRegistry = IPrefixRegistry(prefixRegistry_);
    }

    // --- writes ---------------------------------------------------------------------------

    /// @inheritdoc IIdentifierRegistry
    function createIdentifier(bytes32 prefixNode, string calldata suffix, bytes32 templateId, bytes calldata values)
        external
        onlyWriter(prefixNode)
        returns (bytes32 handleKey)
    {
        handleKey = _handleKey(prefixNode, suffix);
        if (uint256(_commitments[handleKey]) > uint256(TOMBSTONE)) revert IdentifierAlreadyExists(handleKey);
        uint256 ptr = _withTemplate(templateId, values);
        ValueCodec.validate(ptr + 32, values.length);
        bytes32 commitment = _hash(ptr, values.length);
        if (templateId != 0) _checkTemplate(prefixNode, templateId, ptr + 32);
        _commitments[handleKey] = commitment;
        uint64 version = ++_versions[handleKey];
        emit IdentifierCreated(handleKey, prefixNode, suffix, templateId, values, version, commitment);
    }

    /// @inheritdoc IIdentifierRegistry
    function updateIdentifier(
        bytes32 prefixNode,
        string calldata suffix,
        bytes32 templateId,
        bytes calldata currentValues,
        bytes calldata upserts,
        uint32[] calldata removals
    ) external onlyWriter(prefixNode) returns (uint64 version) {
        bytes32 handleKey = _handleKey(prefixNode, suffix);
        bytes32 stored = _commitments[handleKey];
        if (uint256(stored) <= uint256(TOMBSTONE)) revert IdentifierNotFound(handleKey);
        uint256 current = _withTemplate(templateId, currentValues);
        bytes32 given = _hash(current, currentValues.length);
        if (given != stored) revert IdentifierStaleValues(handleKey, stored, given);
        uint256 added = _withTemplate(templateId, upserts) + 32;
        ValueCodec.validate(added, upserts.length);
        for (uint256 i = 1; i < removals.length; ++i) {
            if (removals[i] <= removals[i - 1]) revert ValuesUnordered(removals[i - 1], removals[i]);
        }
        // `merged` is a bytes array whose length word holds the template while hashing.
        bytes memory merged;
        uint256 length;
        assembly ("memory-safe") {
            merged := mload(0x40)
        }
        length = ValueCodec.merge(current + 32, added, removals, _dataOf(merged));
        assembly ("memory-safe") {
            mstore(0x40, add(merged, and(add(length, 0x5f), not(0x1f))))
            mstore(merged, templateId)
        }
        bytes32 commitment = _hash(_addressOf(merged), length);
        assembly ("memory-safe") {
            mstore(merged, length)
        }
        if (templateId != 0) _checkTemplate(prefixNode, templateId, _dataOf(merged));
        _commitments[handleKey] = commitment;
        version = ++_versions[handleKey];
        emit IdentifierUpdated(handleKey, prefixNode, suffix, templateId, merged, version, commitment);
    }

    /// @inheritdoc IIdentifierRegistry
    function deleteIdentifier(bytes32 prefixNode, string calldata suffix)
        external
        onlyWriter(prefixNode)
        returns (uint64 version)
    {
        bytes32 handleKey = _handleKey(prefixNode, suffix);
        if (uint256(_commitments[handleKey]) <= uint256(TOMBSTONE)) revert IdentifierNotFound(handleKey);
        _commitments[handleKey] = TOMBSTONE;
        version = ++_versions[handleKey];
        emit IdentifierDeleted(handleKey, prefixNode, suffix, version);
    }

    /// @inheritdoc IIdentifierRegistry
    function registerBatch(bytes32 prefixNode, bytes calldata records)
        external
        onlyWriter(prefixNode)
        returns (uint256 batchId, bytes32 root)
    {
        uint256 count;
        bytes32 recordsHash;
        (root, count, recordsHash) = Records.process(prefixNode, records, _templates);
        batchId = ++_batchCount;
        _batches[batchId] =
            Batch({prefixNode: prefixNode, root: root, count: uint32(count), blockNumber: uint64(block.number)});
        emit BatchRegistered(batchId, prefixNode, msg.sender, root, uint32(count), recordsHash);
    }

    /// @inheritdoc IIdentifierRegistry
    /// @dev TemplateInvalid reports field type(uint256).max for a bad name, version or field
    ///      count (see Templates.compile). A valid definition under an existing id reverts
    ///      TemplateAlreadyExists.
    function registerTemplate(
        bytes32 prefixNode,
        string calldata name,
        uint32 version,
        TemplateField[] calldata fields
    ) external onlyWriter(prefixNode) returns (bytes32 templateId) {
        uint256[] memory rules = Templates.compile(name, version, fields);
        templateId = Templates.id(prefixNode, name, version);
        Templates.Template storage t = _templates[templateId];
        if (t.prefixNode != 0) revert TemplateAlreadyExists(templateId);
        t.store(prefixNode, rules, fields);
        emit TemplateRegistered(templateId, prefixNode, name, version, fields);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IIdentifierRegistry
    function prefixRegistry() external view returns (address) {
        return address(_prefixRegistry);
    }

    /// @inheritdoc IIdentifierRegistry
    function commitmentOf(bytes32 handleKey) external view returns (bytes32) {
        return _commitments[handleKey];
    }

    /// @inheritdoc IIdentifierRegistry
    function versionOf(bytes32 handleKey) external view returns (uint64) {
        return _versions[handleKey];
    }

    /// @inheritdoc IIdentifierRegistry
    function batch(uint256 batchId) external view returns (Batch memory) {
        return _batches[batchId];
    }

    /// @inheritdoc IIdentifierRegistry
    function batchCount() external view returns (uint256) {
        return _batchCount;
    }

    /// @inheritdoc IIdentifierRegistry
    function template(bytes32 templateId) external view returns (bytes32 prefixNode, TemplateField[] memory fields) {
        Templates.Template storage t = _templates[templateId];
        return (t.prefixNode, t.fieldsOf());
    }

    // --- internals ------------------------------------------------------------------------

    function _checkWriter(bytes32 prefixNode) internal view {
        _prefixRegistry.requireWritable(prefixNode, msg.sender);
    }

    /// @dev Validates the suffix and returns keccak(prefixNode ‖ keccak(suffix)).
    function _handleKey(bytes32 prefixNode, string calldata suffix) private pure returns (bytes32 handleKey) {
        uint256 length = bytes(suffix).length;
        if (length == 0 || length > Utf8.MAX_SUFFIX) revert SuffixInvalidLength(length);
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := mload(0x40)
            calldatacopy(ptr, suffix.offset, length)
        }
        Utf8.validateSuffix(ptr, length);
        assembly ("memory-safe") {
            mstore(0, prefixNode)
            mstore(0x20, keccak256(ptr, length))
            handleKey := keccak256(0, 0x40)
        }
    }

    /// @dev Allocates `templateId ‖ data` in memory and returns its address (data at +32).
    function _withTemplate(bytes32 templateId, bytes calldata data) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            mstore(ptr, templateId)
            calldatacopy(add(ptr, 0x20), data.offset, data.length)
            // One spare word after the data: parsing may read a word that starts near its end.
            mstore(0x40, add(ptr, and(add(data.length, 0x5f), not(0x1f))))
        }
    }

    /// @dev keccak(template ‖ values) over the `templateId ‖ data` block at `ptr`.
    function _hash(uint256 ptr, uint256 length) private pure returns (bytes32 h) {
        assembly ("memory-safe") {
            h := keccak256(ptr, add(length, 0x20))
        }
    }

    /// @dev Reverts unless the values at memory `values` satisfy template `templateId` of `prefixNode`.
    function _checkTemplate(bytes32 prefixNode, bytes32 templateId, uint256 values) private view {
        uint256 buffer;
        uint256 size = Templates.BUFFER_SIZE;
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(0x40, add(buffer, size))
        }
        _templates[templateId].load(prefixNode, templateId, buffer);
        Templates.check(values, templateId, buffer);
    }

    function _addressOf(bytes memory b) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := b
        }
    }

    function _dataOf(bytes memory b) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(b, 0x20)
        }
    }
}
