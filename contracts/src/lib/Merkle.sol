// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title Merkle
/// @notice The batch Merkle tree of docs/data-model.md:
///         `leaf(handleKey, commitment) = keccak(0x00 ‖ handleKey ‖ commitment)`,
///         `parent(a, b) = keccak(0x01 ‖ min(a, b) ‖ max(a, b))`; neighbours pair up level by
///         level, an odd last node is carried up unchanged, and one leaf is its own root.
/// @dev Hashes are built in the free memory past the free memory pointer, which is not moved.
library Merkle {
    /// @notice The leaf of a batch record.
    /// @param handleKey The handle key.
    /// @param commitment The record's commitment.
    /// @return h keccak(0x00 ‖ handleKey ‖ commitment).
    function leafHash(bytes32 handleKey, bytes32 commitment) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 0)
            mstore(add(m, 0x20), handleKey)
            mstore(add(m, 0x40), commitment)
            h := keccak256(add(m, 31), 65)
        }
    }

    /// @notice The parent of two nodes (order-independent).
    /// @param a One child.
    /// @param b The other child.
    /// @return h keccak(0x01 ‖ min(a, b) ‖ max(a, b)).
    function parentHash(bytes32 a, bytes32 b) internal pure returns (bytes32 h) {
        assembly ("memory-safe") {
            let m := mload(0x40)
            mstore(m, 1)
            let swap := mul(xor(a, b), gt(a, b))
            mstore(add(m, 0x20), xor(a, swap))
            mstore(add(m, 0x40), xor(b, swap))
            h := keccak256(add(m, 31), 65)
        }
    }

    /// @notice The root over `nodes`, computed in place: the array's contents are destroyed.
    /// @param nodes The leaves in record order; zero leaves give a zero root.
    /// @return result The root.
    function rootInPlace(bytes32[] memory nodes) internal pure returns (bytes32 result) {
        assembly ("memory-safe") {
            let n := mload(nodes)
            let data := add(nodes, 0x20)
            let m := mload(0x40)
            mstore(m, 1) // byte m+31 is the 0x01 domain byte of every parent
            let left := add(m, 0x20)
            let right := add(m, 0x40)
            let preimage := add(m, 31)
            for {} gt(n, 1) {} {
                let half := shr(1, n)
                let to := data
                let from := data
                for { let last := add(data, shl(5, half)) } lt(to, last) {} {
                    let a := mload(from)
                    let b := mload(add(from, 0x20))
                    let swap := mul(xor(a, b), gt(a, b))
                    mstore(left, xor(a, swap))
                    mstore(right, xor(b, swap))
                    mstore(to, keccak256(preimage, 65))
                    to := add(to, 0x20)
                    from := add(from, 0x40)
                }
                if and(n, 1) {
                    mstore(to, mload(from)) // the odd last node moves up unchanged
                    half := add(half, 1)
                }
                n := half
            }
            if n { result := mload(data) }
        }
    }

    /// @notice The root over `leaves`, leaving them untouched.
    /// @param leaves The leaves in record order; zero leaves give a zero root.
    /// @return The root.
    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory copy = new bytes32[](leaves.length);
        for (uint256 i; i < leaves.length; ++i) {
            copy[i] = leaves[i];
        }
        return rootInPlace(copy);
    }

    /// @notice The root a proof leads to from `leaf`.
    /// @param proof Sibling hashes from the leaf upwards.
    /// @param leaf The leaf.
    /// @return h The folded hash.
    function processProof(bytes32[] memory proof, bytes32 leaf) internal pure returns (bytes32 h) {
        h = leaf;
        for (uint256 i; i < proof.length; ++i) {
            h = parentHash(h, proof[i]);
        }
    }

    /// @notice Whether `proof` proves `leaf` under `root`.
    /// @param proof Sibling hashes from the leaf upwards.
    /// @param expected The root.
    /// @param leaf The leaf.
    /// @return True when folding the proof over the leaf gives the root.
    function verify(bytes32[] memory proof, bytes32 expected, bytes32 leaf) internal pure returns (bool) {
        return processProof(proof, leaf) == expected;
    }
}
