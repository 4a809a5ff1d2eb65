// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IIdentifierRegistry} from "../registry/IIdentifierRegistry.sol";
import {Merkle} from "../lib/Merkle.sol";
import {Records} from "../lib/Records.sol";
import {Templates} from "../lib/Templates.sol";
import {Utf8} from "../lib/Utf8.sol";
import {ValueCodec} from "../lib/ValueCodec.sol";

/// @title CodecHarness
/// @notice Exposes the registry's codec libraries (Utf8, ValueCodec, Templates, Merkle,
///         Records) as external functions, so the Python implementations of
///         docs/data-model.md can be checked against the very code the chain runs.
/// @dev Test-only; never deployed to a consortium chain. It holds no templates, so
///      `batchRoot` refuses records that name one (TemplateNotFound).
contract CodecHarness {
    mapping(bytes32 templateId => Templates.Template) private _noTemplates;

    /// @notice Reverts SuffixInvalidLength or SuffixInvalidCharacter unless `suffix` is valid.
    /// @param suffix The suffix bytes.
    function validateSuffix(bytes calldata suffix) external pure {
        Utf8.validateSuffix(_copy(suffix), suffix.length);
    }

    /// @notice The first offending byte of `data` (or its length when there is none).
    /// @param data The bytes.
    /// @param noControls True for the suffix rule (no C0, DEL or C1 controls).
    /// @return The position.
    function firstInvalidUtf8(bytes calldata data, bool noControls) external pure returns (uint256) {
        return Utf8.firstInvalid(_copy(data), data.length, noControls);
    }

    /// @notice Whether `data` is well-formed UTF-8.
    /// @param data The bytes.
    /// @return True when well-formed.
    function isUtf8(bytes calldata data) external pure returns (bool) {
        return Utf8.isWellFormed(_copy(data), data.length);
    }

    /// @notice Validates a value encoding and returns its commitment under `templateId`.
    /// @dev Reverts with the registry's Value* errors exactly as createIdentifier does.
    /// @param templateId The template id (not checked: the harness holds no templates).
    /// @param values The canonical value encoding.
    /// @return hash keccak(templateId ‖ values).
    /// @return count The number of values.
    function commitment(bytes32 templateId, bytes calldata values) external pure returns (bytes32 hash, uint256 count) {
        bytes memory packed = abi.encodePacked(templateId, values, bytes32(0));
        uint256 ptr;
        assembly ("memory-safe") {
            ptr := add(packed, 0x20)
        }
        count = ValueCodec.validate(ptr + 32, values.length);
        assembly ("memory-safe") {
            hash := keccak256(ptr, add(values.length, 0x20))
        }
    }

    /// @notice Whether a value type is valid, and whether it is reserved.
    /// @param valueType The type bytes.
    /// @return valid True when 1–64 bytes of 0x21–0x7E.
    /// @return reserved True when HS_ADMIN, HS_SERV or HS_SITE… (case-insensitive); only
    ///         meaningful when valid.
    function classifyType(bytes calldata valueType) external pure returns (bool valid, bool reserved) {
        uint256 ptr = _copy(valueType);
        valid = ValueCodec.isValidType(ptr, valueType.length);
        reserved = valid && ValueCodec.isReservedType(ptr, valueType.length);
    }

    /// @notice Validates a template definition and returns its rule words.
    /// @param name The template name.
    /// @param version The version.
    /// @param fields The fields.
    /// @return rules The rules, as Templates documents them.
    function compileTemplate(string calldata name, uint32 version, IIdentifierRegistry.TemplateField[] calldata fields)
        external
        pure
        returns (uint256[] memory rules)
    {
        return Templates.compile(name, version, fields);
    }

    /// @notice Validates `values`, then checks them against a template given by its fields.
    /// @param templateId The id reported in errors.
    /// @param fields The template's fields.
    /// @param values The canonical value encoding.
    function checkTemplate(bytes32 templateId, IIdentifierRegistry.TemplateField[] calldata fields, bytes calldata values)
        external
        pure
    {
        uint256[] memory rules = Templates.compileFields(fields);
        uint256 ptr = _copy(values);
        ValueCodec.validate(ptr, values.length);
        uint256 buffer;
        uint256 size = Templates.BUFFER_SIZE;
        assembly ("memory-safe") {
            buffer := mload(0x40)
            mstore(0x40, add(buffer, size))
        }
        Templates.loadRules(rules, buffer);
        Templates.check(ptr, templateId, buffer);
    }

    /// @notice Merges values as updateIdentifier does.
    /// @param current The current values (validated here).
    /// @param upserts Values to add or replace (validated here).
    /// @param removals Indexes to remove, strictly ascending.
    /// @return merged The merged encoding.
    function mergeValues(bytes calldata current, bytes calldata upserts, uint32[] calldata removals)
        external
        pure
        returns (bytes memory merged)
    {
        uint256 c = _copy(current);
        ValueCodec.validate(c, current.length);
        uint256 u = _copy(upserts);
        ValueCodec.validate(u, upserts.length);
        for (uint256 i = 1; i < removals.length; ++i) {
            if (removals[i] <= removals[i - 1]) {
                revert IIdentifierRegistry.ValuesUnordered(removals[i - 1], removals[i]);
            }
        }
        assembly ("memory-safe") {
            merged := mload(0x40)
        }
        uint256 length = ValueCodec.merge(c, u, removals, _dataOf(merged));
        assembly ("memory-safe") {
            mstore(merged, length)
            mstore(0x40, add(merged, and(add(length, 0x5f), not(0x1f))))
        }
    }

    /// @notice keccak(prefixNode ‖ keccak(suffix)), after validating the suffix.
    /// @param prefixNode The prefix's node id.
    /// @param suffix The suffix.
    /// @return The handle key.
    function handleKey(bytes32 prefixNode, bytes calldata suffix) external pure returns (bytes32) {
        Utf8.validateSuffix(_copy(suffix), suffix.length);
        return keccak256(abi.encodePacked(prefixNode, keccak256(suffix)));
    }

    /// @notice templateId(prefixNode, name, version).
    /// @param prefixNode The prefix.
    /// @param name The name.
    /// @param version The version.
    /// @return The id.
    function templateIdOf(bytes32 prefixNode, string calldata name, uint32 version) external pure returns (bytes32) {
        return Templates.id(prefixNode, name, version);
    }

    /// @notice A batch leaf.
    /// @param key The handle key.
    /// @param commitment_ The commitment.
    /// @return The leaf hash.
    function leafHash(bytes32 key, bytes32 commitment_) external pure returns (bytes32) {
        return Merkle.leafHash(key, commitment_);
    }

    /// @notice A Merkle parent.
    /// @param a One child.
    /// @param b The other.
    /// @return The parent hash.
    function parentHash(bytes32 a, bytes32 b) external pure returns (bytes32) {
        return Merkle.parentHash(a, b);
    }

    /// @notice The Merkle root of `leaves` (zero for none).
    /// @param leaves The leaves.
    /// @return The root.
    function merkleRoot(bytes32[] calldata leaves) external pure returns (bytes32) {
        return Merkle.root(leaves);
    }

    /// @notice Whether `proof` proves `leaf` under `root`.
    /// @param proof Sibling hashes from the leaf up.
    /// @param root The root.
    /// @param leaf The leaf.
    /// @return True when it does.
    function verifyProof(bytes32[] calldata proof, bytes32 root, bytes32 leaf) external pure returns (bool) {
        return Merkle.verify(proof, root, leaf);
    }

    /// @notice Parses batch records as registerBatch does (records naming a template are
    ///         refused: the harness holds none).
    /// @param prefixNode The prefix.
    /// @param records The packed records.
    /// @return root The Merkle root.
    /// @return count The number of records.
    /// @return recordsHash keccak256(records).
    function batchRoot(bytes32 prefixNode, bytes calldata records)
        external
        view
        returns (bytes32 root, uint256 count, bytes32 recordsHash)
    {
        return Records.process(prefixNode, records, _noTemplates);
    }

    /// @dev Copies calldata bytes to fresh memory with one spare word after them.
    function _copy(bytes calldata data) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := mload(0x40)
            calldatacopy(ptr, data.offset, data.length)
            mstore(0x40, add(ptr, and(add(data.length, 0x3f), not(0x1f))))
        }
    }

    function _dataOf(bytes memory b) private pure returns (uint256 ptr) {
        assembly ("memory-safe") {
            ptr := add(b, 0x20)
        }
    }
}
