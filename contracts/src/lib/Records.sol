// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IIdentifierRegistry} from "../registry/IIdentifierRegistry.sol";
import {Merkle} from "./Merkle.sol";
import {Templates} from "./Templates.sol";
import {Utf8} from "./Utf8.sol";
import {ValueCodec} from "./ValueCodec.sol";

/// @title Records
/// @notice Batch records of docs/data-model.md: parses, validates and Merkle-hashes
///         `records := (suffixLength:uint8 ‖ suffix ‖ template:bytes32 ‖ values) × n`.
/// @dev The blob is copied to memory once (keccak256(records) needs it there anyway) and
///      parsed in place with no per-record allocation: the leaf of record i overwrites bytes
///      [32i, 32i + 32) of the copy, which belong to records already parsed because every
///      valid record is at least 35 bytes long; the tree is then folded in place. Memory
///      used is the blob plus a fixed ~1.2 KiB, so cost grows linearly in calldata size
///      save for the EVM's own quadratic memory term over the blob.
///      Per record, in order: BatchTooLarge (a record after the 20 000th), BatchMalformed
///      (the record runs past the end), the suffix rules, BatchUnordered (its handle key is
///      not above the previous one), BatchMalformed (its values run past the end), the
///      value rules, and the template rules (TemplateNotFound unless the template belongs
///      to the batch's prefix).
library Records {
    /// @notice The most records in one batch.
    uint256 internal constant MAX_RECORDS = 20_000;

    /// @notice The smallest valid record: suffix length, one suffix byte, template, count.
    uint256 internal constant MIN_RECORD = 35;

    /// @notice Parses and validates `records` for prefix `prefixNode`.
    /// @param prefixNode The prefix every record belongs to.
    /// @param records The packed records.
    /// @param templates The templates records may name.
    /// @return root The Merkle root over the records' leaves.
    /// @return count The number of records.
    /// @return recordsHash keccak256(records).
    function process(
        bytes32 prefixNode,
        bytes calldata records,
        mapping(bytes32 => Templates.Template) storage templates
    ) internal view returns (bytes32 root, uint256 count, bytes32 recordsHash) {
        uint256 length = records.length;
        if (length == 0) revert IIdentifierRegistry.BatchEmpty();
        bytes32[] memory nodes;
        uint256 base;
        uint256 buffer;
        uint256 scratch;
        uint256 bufferSize = Templates.BUFFER_SIZE;
        assembly ("memory-safe") {
            nodes := mload(0x40)
            base := add(nodes, 0x20)
            calldatacopy(base, records.offset, length)
            recordsHash := keccak256(base, length)
            // One spare word after the blob: reads near its end stay in allocated memory.
            buffer := add(base, and(add(length, 0x3f), not(0x1f)))
            scratch := add(buffer, bufferSize)
            mstore(0x40, add(scratch, 0x60))
            mstore(scratch, 0) // byte scratch+31 is the 0x00 domain byte of every leaf
        }
        unchecked {
            uint256 p = base;
            uint256 end = base + length;
            bytes32 previous;
            bytes32 loaded;
            while (p < end) {
                if (count == MAX_RECORDS) revert IIdentifierRegistry.BatchTooLarge(MAX_RECORDS);
                uint256 suffixLength;
                bool printable;
                assembly ("memory-safe") {
                    suffixLength := byte(0, mload(p))
                    // Fast path for 1–32 bytes of printable ASCII (Utf8.isPrintableAscii's test
                    // inlined, its constants derived from the zero slot); Utf8 judges the rest.
                    let ones := div(not(mload(0x60)), 0xff)
                    let shift := shl(3, sub(32, suffixLength))
                    let w := shr(shift, mload(add(p, 1)))
                    printable := iszero(
                        or(
                            gt(sub(suffixLength, 1), 31),
                            and(or(or(w, not(add(w, mul(ones, 0x60)))), add(w, ones)), shr(shift, shl(7, ones)))
                        )
                    )
                }
                uint256 templateAt = p + 1 + suffixLength;
                if (templateAt + 33 > end) revert IIdentifierRegistry.BatchMalformed(p - base);
                if (!printable) Utf8.validateSuffix(p + 1, suffixLength);
                bytes32 handleKey;
                bytes32 templateId;
                assembly ("memory-safe") {
                    mstore(0, prefixNode)
                    mstore(0x20, keccak256(add(p, 1), suffixLength))
                    handleKey := keccak256(0, 0x40)
                    templateId := mload(templateAt)
                }
                if (count != 0 && handleKey <= previous) revert IIdentifierRegistry.BatchUnordered(p - base);
                (bool complete, uint256 next,) = ValueCodec.scan(templateAt + 32, end);
                if (!complete) revert IIdentifierRegistry.BatchMalformed(p - base);
                if (templateId != 0) {
                    if (templateId != loaded) {
                        Templates.load(templates[templateId], prefixNode, templateId, buffer);
                        loaded = templateId;
                    }
                    Templates.check(templateAt + 32, templateId, buffer);
                }
                assembly ("memory-safe") {
                    mstore(add(scratch, 0x20), handleKey)
                    mstore(add(scratch, 0x40), keccak256(templateAt, sub(next, templateAt)))
                    mstore(add(base, shl(5, count)), keccak256(add(scratch, 31), 65))
                }
                previous = handleKey;
                p = next;
                ++count;
            }
            assembly ("memory-safe") {
                mstore(nodes, count)
            }
        }
        root = Merkle.rootInPlace(nodes);
    }
}
