// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IIdentifierRegistry} from "../registry/IIdentifierRegistry.sol";
import {Utf8} from "./Utf8.sol";

/// @title ValueCodec
/// @notice Parses and validates the canonical value encoding of docs/data-model.md, and
///         merges value sets for updates.
/// @dev Works on memory: `values := count:uint8 ‖ value × count` with
///      `value := index:uint32 ‖ permissions:uint8 ‖ format:uint8 ‖ ttl:uint32 ‖
///      typeLength:uint8 ‖ type ‖ dataLength:uint16 ‖ data`.
///      Per value the checks run in this order, and the first failure reverts:
///      truncation (reported by the caller), index (ValueIndexInvalid, then ValuesUnordered),
///      permissions, format, type (ValueTypeInvalid, then ValueTypeReserved), data length,
///      UTF-8 of string data. The count is checked (ValuesTooMany) before any value.
library ValueCodec {
    /// @notice The most values a handle holds.
    uint256 internal constant MAX_VALUES = 32;
    /// @notice The longest value data, in bytes.
    uint256 internal constant MAX_DATA = 8192;
    /// @notice The longest value type, in bytes.
    uint256 internal constant MAX_TYPE = 64;
    /// @notice The highest format allowed on chain (0 string, 1 base64, 2 hex).
    uint256 internal constant MAX_FORMAT = 2;
    /// @notice The highest permissions nibble.
    uint256 internal constant MAX_PERMISSIONS = 15;
    /// @notice Bytes of a value before its type: index, permissions, format, ttl, typeLength.
    uint256 internal constant HEAD = 11;

    uint256 private constant HIGH = 0x8080808080808080808080808080808080808080808080808080808080808080;
    uint256 private constant ONES = 0x0101010101010101010101010101010101010101010101010101010101010101;
    /// @dev For ASCII b, b + 0x5f has its top bit set iff b >= 0x21.
    uint256 private constant ADD_5F = 0x5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f5f;
    /// @dev '!' in every byte: pads the tail of a partial word with a valid type character.
    uint256 private constant FILL = 0x2121212121212121212121212121212121212121212121212121212121212121;

    /// @notice Parses the value encoding at memory `p`, reading no byte at or after `end`, and
    ///         reverts on the first rule a complete value breaks.
    /// @dev Truncation does not revert: it returns `complete = false` and the position of the
    ///      value (or count byte) that runs past `end`, so the caller can report it as
    ///      ValuesMalformed or BatchMalformed. Trailing bytes are the caller's to refuse.
    ///      A fast pass (`_scanFast`) accepts the common case; a value it cannot accept on
    ///      its own (a broken rule, or string data that is not plain ASCII) is judged by
    ///      `_checkValue`, which is authoritative, and the fast pass resumes after it.
    /// @param p Memory address of the count byte.
    /// @param end Memory address one past the last readable byte.
    /// @return complete False when the encoding runs past `end`.
    /// @return pos One past the last value when complete; else the truncated value's address.
    /// @return count The number of values (as declared by the count byte).
    function scan(uint256 p, uint256 end) internal pure returns (bool complete, uint256 pos, uint256 count) {
        unchecked {
            if (p >= end) return (false, p, 0);
            assembly ("memory-safe") {
                count := shr(248, mload(p))
            }
            if (count > MAX_VALUES) revert IIdentifierRegistry.ValuesTooMany(count, MAX_VALUES);
            uint256 previous;
            uint256 left = count;
            pos = p + 1;
            while (true) {
                uint256 status;
                (status, pos, previous, left) = _scanFast(pos, end, previous, left);
                if (status == _DONE) return (true, pos, count);
                if (status == _TRUNCATED) return (false, pos, count);
                (pos, previous) = _checkValue(pos, previous);
                --left;
            }
        }
    }

    /// @notice Validates a whole value encoding at memory `p` of `len` bytes.
    /// @dev Reverts ValuesMalformed(offset relative to `p`) on truncation or trailing bytes,
    ///      and the value errors of `scan` otherwise.
    /// @param p Memory address of the encoding.
    /// @param len Its length.
    /// @return count The number of values.
    function validate(uint256 p, uint256 len) internal pure returns (uint256 count) {
        unchecked {
            (bool complete, uint256 pos, uint256 n) = scan(p, p + len);
            if (!complete || pos != p + len) revert IIdentifierRegistry.ValuesMalformed(pos - p);
            return n;
        }
    }

    /// @notice Whether `len` bytes at memory `p` are a valid value type: 1–64 bytes of
    ///         printable ASCII without space (0x21–0x7E).
    /// @param p Memory address.
    /// @param len Length.
    /// @return valid True when valid.
    function isValidType(uint256 p, uint256 len) internal pure returns (bool valid) {
        assembly ("memory-safe") {
            function printable(w) -> ok {
                ok := and(
                    iszero(and(w, HIGH)),
                    and(eq(and(add(w, ADD_5F), HIGH), HIGH), iszero(and(add(w, ONES), HIGH)))
                )
            }
            function word(ptr, rem) -> w {
                w := mload(ptr)
                if lt(rem, 32) {
                    let keep := not(sub(shl(shl(3, sub(32, rem)), 1), 1))
                    w := or(and(w, keep), and(FILL, not(keep)))
                }
            }
            valid := and(iszero(iszero(len)), iszero(gt(len, MAX_TYPE)))
            if valid {
                valid := printable(word(p, len))
                if and(valid, gt(len, 32)) { valid := printable(word(add(p, 32), sub(len, 32))) }
            }
        }
    }

    /// @notice Whether a valid type of `len` bytes at memory `p` is reserved for derived
    ///         values: HS_ADMIN, HS_SERV, or anything starting with HS_SITE (ASCII case-insensitive).
    /// @dev Assumes `isValidType` holds (every byte is ASCII).
    /// @param p Memory address.
    /// @param len Length.
    /// @return reserved True when reserved.
    function isReservedType(uint256 p, uint256 len) internal pure returns (bool reserved) {
        if (len < 7) return false;
        assembly ("memory-safe") {
            let w := shr(192, mload(p)) // the first eight bytes
            if eq(len, 7) { w := and(w, not(0xff)) }
            // Upper-case ASCII letters in all eight bytes at once.
            let lower := and(and(add(w, 0x1f1f1f1f1f1f1f1f), not(add(w, 0x0505050505050505))), 0x8080808080808080)
            w := sub(w, shr(2, lower))
            let seven := shr(8, w)
            reserved := or(
                eq(seven, 0x48535f53495445), // "HS_SITE", any length from 7
                or(
                    and(eq(len, 7), eq(seven, 0x48535f53455256)), // "HS_SERV"
                    and(eq(len, 8), eq(w, 0x48535f41444d494e)) // "HS_ADMIN"
                )
            )
        }
    }

    /// @notice The byte length of the (well-formed) value at memory `p`.
    /// @param p Memory address of the value.
    /// @return length Its length.
    function valueLength(uint256 p) internal pure returns (uint256 length) {
        assembly ("memory-safe") {
            let typeLength := and(shr(168, mload(p)), 0xff)
            length := add(add(HEAD, 2), add(typeLength, shr(240, mload(add(add(p, HEAD), typeLength)))))
        }
    }

    /// @notice Merges two valid value encodings (upserts replace the current value at the
    ///         same index), drops `removals`, and writes the result at memory `out`.
    /// @dev `removals` must be strictly ascending (the caller checks) and each must be an
    ///      index of `current`, else ValueIndexNotFound(index); a removal also drops an upsert
    ///      at the same index. Reverts ValuesTooMany when the result holds over 32 values.
    ///      Writes whole words: up to 32 bytes past the result are clobbered (and zeroed).
    /// @param current Memory address of the current encoding (valid).
    /// @param upserts Memory address of the upserts encoding (valid).
    /// @param removals Indexes to remove.
    /// @param out Memory address to write the merged encoding to.
    /// @return length The merged encoding's length.
    function merge(uint256 current, uint256 upserts, uint32[] calldata removals, uint256 out)
        internal
        pure
        returns (uint256 length)
    {
        unchecked {
            uint256 cLeft;
            uint256 uLeft;
            assembly ("memory-safe") {
                cLeft := shr(248, mload(current))
                uLeft := shr(248, mload(upserts))
            }
            uint256 c = current + 1;
            uint256 u = upserts + 1;
            uint256 o = out + 1;
            uint256 count;
            uint256 r;
            uint256 rCount = removals.length;
            while (cLeft != 0 || uLeft != 0) {
                uint256 cIndex = cLeft != 0 ? _index(c) : type(uint256).max;
                uint256 uIndex = uLeft != 0 ? _index(u) : type(uint256).max;
                uint256 index = cIndex < uIndex ? cIndex : uIndex;
                // A removal below every remaining current index cannot name one of them.
                if (r < rCount && removals[r] < index) revert IIdentifierRegistry.ValueIndexNotFound(removals[r]);
                bool removed = r < rCount && removals[r] == index;
                if (removed) {
                    if (cIndex != index) revert IIdentifierRegistry.ValueIndexNotFound(uint32(index));
                    ++r;
                }
                uint256 source;
                uint256 sourceLength;
                if (uIndex == index) {
                    source = u;
                    sourceLength = valueLength(u);
                    u += sourceLength;
                    --uLeft;
                    if (cIndex == index) {
                        c += valueLength(c);
                        --cLeft;
                    }
                } else {
                    source = c;
                    sourceLength = valueLength(c);
                    c += sourceLength;
                    --cLeft;
                }
                if (!removed) {
                    _copy(source, o, sourceLength);
                    o += sourceLength;
                    ++count;
                }
            }
            if (r < rCount) revert IIdentifierRegistry.ValueIndexNotFound(removals[r]);
            if (count > MAX_VALUES) revert IIdentifierRegistry.ValuesTooMany(count, MAX_VALUES);
            assembly ("memory-safe") {
                mstore(o, 0)
                mstore8(out, count)
            }
            return o - out;
        }
    }

    uint256 private constant _DONE = 0;
    uint256 private constant _TRUNCATED = 1;
    uint256 private constant _UNSURE = 2;

    /// @dev Accepts values from `p` while they are complete, obey every rule, have a type of
    ///      at most 32 bytes not starting with H or h (so not reserved) and carry no non-ASCII
    ///      string data; stops with _DONE after `left` values, _TRUNCATED at a value running
    ///      past `end`, or _UNSURE at a value `_checkValue` must judge.
    function _scanFast(uint256 p, uint256 end, uint256 previous, uint256 left)
        private
        pure
        returns (uint256 status, uint256 resumeAt, uint256 lastIndex, uint256 remaining)
    {
        assembly ("memory-safe") {
            // Wide constants are derived from the zero slot (0x60) and kept on the stack: as
            // literals, the optimiser would fetch each use from code with CODECOPY.
            let ones := div(not(mload(0x60)), 0xff)
            let high := shl(7, ones)
            let add5f := mul(ones, 0x5f)
            for {} left {} {
                let head := mload(p)
                let typeLength := byte(10, head)
                let lengthAt := add(add(p, HEAD), typeLength)
                let dataLength := shr(240, mload(lengthAt))
                let next := add(add(lengthAt, 2), dataLength)
                if gt(next, end) {
                    status := _TRUNCATED
                    break
                }
                let index := shr(224, head)
                // index ascending and not 0, 100 or 101; permissions <= 15; format <= 2;
                // 1 <= typeLength <= 32 (longer types go to _checkValue); data <= 8192 bytes.
                let bad := or(
                    or(iszero(gt(index, previous)), eq(or(index, 1), 101)),
                    or(
                        or(gt(byte(4, head), MAX_PERMISSIONS), gt(byte(5, head), MAX_FORMAT)),
                        or(gt(sub(typeLength, 1), 31), gt(dataLength, MAX_DATA))
                    )
                )
                // Type bytes within 0x21-0x7E (see Utf8.isPrintableAscii for the method), and
                // no leading H or h (a reserved type is for _checkValue to name).
                let first := mload(add(p, HEAD))
                let shift := shl(3, sub(32, typeLength))
                let w := shr(shift, first)
                bad := or(
                    or(bad, eq(and(byte(0, first), 0xdf), 0x48)),
                    and(or(or(w, not(add(w, add5f))), add(w, ones)), shr(shift, high))
                )
                if iszero(or(bad, byte(5, head))) {
                    // String data: plain ASCII is well-formed; anything else goes to _checkValue.
                    let q := add(lengthAt, 2)
                    let acc := 0
                    for {} lt(add(q, 31), next) { q := add(q, 32) } { acc := or(acc, mload(q)) }
                    if lt(q, next) { acc := or(acc, shr(shl(3, sub(32, sub(next, q))), mload(q))) }
                    bad := and(acc, high)
                }
                if bad {
                    status := _UNSURE
                    break
                }
                previous := index
                p := next
                left := sub(left, 1)
            }
            resumeAt := p
            lastIndex := previous
            remaining := left
        }
    }

    /// @dev Checks the complete value at `p` (following index `previous`) against every rule
    ///      in the documented order; returns the next value's address and this index.
    function _checkValue(uint256 p, uint256 previous) private pure returns (uint256 next, uint256 index) {
        unchecked {
            uint256 head;
            uint256 typeLength;
            uint256 dataLength;
            assembly ("memory-safe") {
                head := mload(p)
                typeLength := and(shr(168, head), 0xff)
                dataLength := shr(240, mload(add(add(p, HEAD), typeLength)))
            }
            uint256 dataStart = p + HEAD + typeLength + 2;
            uint32 index32 = uint32(head >> 224);
            if (index32 == 0 || index32 == 100 || index32 == 101) {
                revert IIdentifierRegistry.ValueIndexInvalid(index32);
            }
            if (index32 <= previous) revert IIdentifierRegistry.ValuesUnordered(uint32(previous), index32);
            uint256 permissions = (head >> 216) & 0xff;
            if (permissions > MAX_PERMISSIONS) {
                revert IIdentifierRegistry.ValuePermissionsInvalid(index32, uint8(permissions));
            }
            uint256 format = (head >> 208) & 0xff;
            if (format > MAX_FORMAT) revert IIdentifierRegistry.ValueFormatInvalid(index32, uint8(format));
            if (!isValidType(p + HEAD, typeLength)) revert IIdentifierRegistry.ValueTypeInvalid(index32);
            if (isReservedType(p + HEAD, typeLength)) revert IIdentifierRegistry.ValueTypeReserved(index32);
            if (dataLength > MAX_DATA) revert IIdentifierRegistry.ValueDataTooLong(index32, dataLength, MAX_DATA);
            if (format == 0 && !Utf8.isWellFormed(dataStart, dataLength)) {
                revert IIdentifierRegistry.ValueDataNotUtf8(index32);
            }
            return (dataStart + dataLength, index32);
        }
    }

    function _index(uint256 p) private pure returns (uint256 index) {
        assembly ("memory-safe") {
            index := shr(224, mload(p))
        }
    }

    function _copy(uint256 from, uint256 to, uint256 length) private pure {
        assembly ("memory-safe") {
            for { let i := 0 } lt(i, length) { i := add(i, 32) } { mstore(add(to, i), mload(add(from, i))) }
        }
    }
}
