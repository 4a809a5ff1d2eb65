// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IPrefixRegistry} from "../registry/IPrefixRegistry.sol";

/// @title Labels
/// @notice Prefix label rules and ENS-style node ids, exactly as docs/data-model.md states them:
///         a label is 1–63 bytes of `[A-Za-z0-9-]`, a whole prefix at most 128 bytes, and
///         node(p.label) = keccak256(node(p) ‖ keccak256(lower(label))) with node("") = 0.
/// @dev Reverts with the IPrefixRegistry errors, so a caller's revert data is the same whether
///      the check ran in the registry or in the Consortium. Positions in
///      PrefixLabelInvalidCharacter count bytes from the start of the string the caller passed
///      (the label for `validate`, the whole prefix for `nodeOf`).
library Labels {
    /// @notice The longest label, in bytes.
    uint256 internal constant MAX_LABEL_LENGTH = 63;
    /// @notice The longest whole prefix, in bytes, dots included.
    uint256 internal constant MAX_PREFIX_LENGTH = 128;

    /// @notice Reverts unless `label` is a well-formed single label.
    /// @param label The label, e.g. "88" or "Acme-1".
    function validate(string memory label) internal pure {
        bytes memory raw = bytes(label);
        _validateRange(raw, 0, raw.length);
    }

    /// @notice `text` with ASCII letters A–Z lower-cased; every other byte unchanged.
    /// @param text Any string.
    /// @return The lower-cased copy.
    function lower(string memory text) internal pure returns (string memory) {
        bytes memory raw = bytes(text);
        bytes memory out = new bytes(raw.length);
        for (uint256 i; i < raw.length; ++i) {
            bytes1 c = raw[i];
            out[i] = (c >= "A" && c <= "Z") ? bytes1(uint8(c) + 32) : c;
        }
        return string(out);
    }

    /// @notice keccak256 of the lower-cased label. Does not validate.
    /// @param label The label.
    /// @return The label hash.
    function labelhash(string memory label) internal pure returns (bytes32) {
        return keccak256(bytes(lower(label)));
    }

    /// @notice The node id of `label` under `parent`. Does not validate.
    /// @param parent The parent's node id (0 for a top-level label).
    /// @param label The child label.
    /// @return The child's node id.
    function childNode(bytes32 parent, string memory label) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(parent, labelhash(label)));
    }

    /// @notice The node id of a whole dotted prefix such as "88.100.1", validating it: at most
    ///         128 bytes (checked first), one or more labels, each well-formed.
    /// @param name The prefix.
    /// @return node The node id.
    function nodeOf(string memory name) internal pure returns (bytes32 node) {
        bytes memory raw = bytes(name);
        if (raw.length > MAX_PREFIX_LENGTH) revert IPrefixRegistry.PrefixTooLong(raw.length, MAX_PREFIX_LENGTH);
        bytes memory lowered = bytes(lower(name));
        uint256 start;
        for (uint256 i; i <= raw.length; ++i) {
            if (i == raw.length || raw[i] == ".") {
                _validateRange(raw, start, i);
                node = keccak256(abi.encodePacked(node, _hashRange(lowered, start, i - start)));
                start = i + 1;
            }
        }
    }

    /// @dev Validates raw[start:end) as one label; positions reported are indexes into `raw`.
    function _validateRange(bytes memory raw, uint256 start, uint256 end) private pure {
        uint256 length = end - start;
        if (length == 0) revert IPrefixRegistry.PrefixLabelEmpty();
        if (length > MAX_LABEL_LENGTH) revert IPrefixRegistry.PrefixLabelTooLong(length, MAX_LABEL_LENGTH);
        for (uint256 i = start; i < end; ++i) {
            bytes1 c = raw[i];
            bool ok = (c >= "a" && c <= "z") || (c >= "0" && c <= "9") || (c >= "A" && c <= "Z") || c == "-";
            if (!ok) revert IPrefixRegistry.PrefixLabelInvalidCharacter(i, c);
        }
    }

    /// @dev keccak256 of data[start:start+length) without copying.
    function _hashRange(bytes memory data, uint256 start, uint256 length) private pure returns (bytes32 hash) {
        assembly ("memory-safe") {
            hash := keccak256(add(add(data, 0x20), start), length)
        }
    }
}
