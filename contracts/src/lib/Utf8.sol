// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IIdentifierRegistry} from "../registry/IIdentifierRegistry.sol";

/// @title Utf8
/// @notice Well-formed UTF-8 exactly as Python's strict `bytes.decode("utf-8")` accepts it
///         (Unicode Table 3-7: no overlong forms, no surrogates U+D800–U+DFFF, nothing above
///         U+10FFFF), and the suffix rule of docs/data-model.md on top of it.
/// @dev Works on memory (`ptr`, `len`): the registry copies calldata to memory once, and
///      parses records in place. Runs of ASCII are checked 32 bytes per step; a word that is
///      not plain ASCII is decoded character by character, after which the fast path resumes.
library Utf8 {
    /// @dev The top bit of every byte of a word.
    uint256 private constant HIGH = 0x8080808080808080808080808080808080808080808080808080808080808080;
    /// @dev 0x01 in every byte.
    uint256 private constant ONES = 0x0101010101010101010101010101010101010101010101010101010101010101;
    /// @dev 0x60 in every byte: for ASCII b, b + 0x60 has its top bit set iff b >= 0x20.
    uint256 private constant ADD_60 = 0x6060606060606060606060606060606060606060606060606060606060606060;
    /// @dev 'A' in every byte: pads the tail of a partial word with a harmless character.
    uint256 private constant FILL = 0x4141414141414141414141414141414141414141414141414141414141414141;

    /// @notice The longest suffix, in bytes.
    uint256 internal constant MAX_SUFFIX = 255;

    /// @notice Reverts unless `len` bytes at memory `ptr` are a valid suffix: 1–255 bytes of
    ///         well-formed UTF-8 without C0 controls, DEL or C1 controls.
    /// @dev Reverts SuffixInvalidLength(len) or SuffixInvalidCharacter(position), where
    ///      position is the first byte of the offending character or malformed sequence.
    /// @param ptr Memory address of the suffix.
    /// @param len Its length in bytes.
    function validateSuffix(uint256 ptr, uint256 len) internal pure {
        if (len == 0 || len > MAX_SUFFIX) revert IIdentifierRegistry.SuffixInvalidLength(len);
        if (!isPrintableAscii(ptr, len)) {
            uint256 position = firstInvalid(ptr, len, true);
            if (position != len) revert IIdentifierRegistry.SuffixInvalidCharacter(position);
        }
    }

    /// @notice Whether `len` bytes at memory `ptr` are well-formed UTF-8 (any characters).
    /// @param ptr Memory address.
    /// @param len Length in bytes.
    /// @return True when well-formed.
    function isWellFormed(uint256 ptr, uint256 len) internal pure returns (bool) {
        return isAscii(ptr, len) || firstInvalid(ptr, len, false) == len;
    }

    /// @notice Whether `len` bytes at memory `ptr` are all ASCII (below 0x80).
    /// @dev The fast path: ORs whole words together; the last partial word is shifted so
    ///      bytes past the end drop out.
    /// @param ptr Memory address.
    /// @param len Length in bytes.
    /// @return ascii True when every byte is below 0x80.
    function isAscii(uint256 ptr, uint256 len) internal pure returns (bool ascii) {
        assembly ("memory-safe") {
            let end := add(ptr, len)
            let acc := 0
            for {} lt(add(ptr, 31), end) { ptr := add(ptr, 32) } { acc := or(acc, mload(ptr)) }
            if lt(ptr, end) { acc := or(acc, shr(shl(3, sub(32, sub(end, ptr))), mload(ptr))) }
            // HIGH, derived from the zero slot: as a literal the optimiser would CODECOPY it.
            ascii := iszero(and(acc, shl(7, div(not(mload(0x60)), 0xff))))
        }
    }

    /// @notice Whether `len` bytes at memory `ptr` are all printable ASCII (0x20–0x7E), which
    ///         is always a valid suffix character.
    /// @dev Per byte b < 0x80: b + 0x60 has its top bit clear iff b < 0x20, and b + 0x01 has
    ///      it set iff b = 0x7F; with no byte at 0x80 or above no addition carries across
    ///      bytes. The last partial word is shifted right so bytes past the end drop out.
    /// @param ptr Memory address.
    /// @param len Length in bytes.
    /// @return printable True when every byte is printable ASCII.
    function isPrintableAscii(uint256 ptr, uint256 len) internal pure returns (bool printable) {
        assembly ("memory-safe") {
            // Wide constants are derived from the zero slot (0x60) and kept on the stack: as
            // literals, the optimiser would fetch each use from code with CODECOPY.
            let ones := div(not(mload(0x60)), 0xff)
            let add60 := mul(ones, 0x60)
            let high := shl(7, ones)
            let end := add(ptr, len)
            let bad := 0
            for {} lt(add(ptr, 31), end) { ptr := add(ptr, 32) } {
                let w := mload(ptr)
                bad := or(bad, or(or(w, not(add(w, add60))), add(w, ones)))
            }
            bad := and(bad, high)
            if lt(ptr, end) {
                let shift := shl(3, sub(32, sub(end, ptr)))
                let w := shr(shift, mload(ptr))
                bad := or(bad, and(or(or(w, not(add(w, add60))), add(w, ones)), shr(shift, high)))
            }
            printable := iszero(bad)
        }
    }

    /// @notice The position of the first byte that starts a malformed sequence (or, with
    ///         `noControls`, a C0 control, DEL or C1 control), or `len` when there is none.
    /// @param ptr Memory address.
    /// @param len Length in bytes.
    /// @param noControls True to refuse U+0000–U+001F, U+007F and U+0080–U+009F as well.
    /// @return position The offset of the first offending byte relative to `ptr`, or `len`.
    function firstInvalid(uint256 ptr, uint256 len, bool noControls) internal pure returns (uint256 position) {
        assembly ("memory-safe") {
            // The length of the well-formed sequence starting with the top byte of `c`, or 0
            // when it is malformed; `avail` is how many bytes remain.
            function sequence(c, avail) -> n {
                let b0 := shr(248, c)
                if lt(b0, 0x80) {
                    n := 1
                    leave
                }
                if lt(b0, 0xc2) { leave } // stray continuation byte or overlong 2-byte lead
                let b1 := and(shr(240, c), 0xff)
                if lt(b0, 0xe0) {
                    if and(gt(avail, 1), eq(and(b1, 0xc0), 0x80)) { n := 2 }
                    leave
                }
                let lo := 0x80
                let hi := 0xbf
                let b2cont := eq(and(shr(232, c), 0xc0), 0x80)
                if lt(b0, 0xf0) {
                    if eq(b0, 0xe0) { lo := 0xa0 } // overlong 3-byte forms
                    if eq(b0, 0xed) { hi := 0x9f } // surrogates U+D800–U+DFFF
                    if and(and(gt(avail, 2), b2cont), and(iszero(lt(b1, lo)), iszero(gt(b1, hi)))) { n := 3 }
                    leave
                }
                if lt(b0, 0xf5) {
                    if eq(b0, 0xf0) { lo := 0x90 } // overlong 4-byte forms
                    if eq(b0, 0xf4) { hi := 0x8f } // above U+10FFFF
                    let b3cont := eq(and(shr(224, c), 0xc0), 0x80)
                    if and(and(gt(avail, 3), and(b2cont, b3cont)), and(iszero(lt(b1, lo)), iszero(gt(b1, hi)))) {
                        n := 4
                    }
                }
            }

            function scan(start, length, strict) -> pos {
                let end := add(start, length)
                let i := start
                for {} lt(i, end) {} {
                    let w := mload(i)
                    let rem := sub(end, i)
                    if lt(rem, 32) {
                        let keep := not(sub(shl(shl(3, sub(32, rem)), 1), 1))
                        w := or(and(w, keep), and(FILL, not(keep)))
                    }
                    // Fast path: 32 ASCII bytes (printable ones only when strict).
                    let ascii := iszero(and(w, HIGH))
                    if strict {
                        ascii := and(ascii, and(eq(and(add(w, ADD_60), HIGH), HIGH), iszero(and(add(w, ONES), HIGH))))
                    }
                    if ascii {
                        i := add(i, 32)
                        continue
                    }
                    // Slow path: decode characters up to the end of this 32-byte window.
                    let window := add(i, 32)
                    if gt(window, end) { window := end }
                    for {} lt(i, window) {} {
                        let c := mload(i)
                        let n := sequence(c, sub(end, i))
                        if iszero(n) {
                            pos := sub(i, start)
                            leave
                        }
                        if strict {
                            let b0 := shr(248, c)
                            // C0 controls and DEL; C1 controls are C2 80 – C2 9F.
                            if or(
                                and(eq(n, 1), or(lt(b0, 0x20), eq(b0, 0x7f))),
                                and(eq(b0, 0xc2), lt(and(shr(240, c), 0xff), 0xa0))
                            ) {
                                pos := sub(i, start)
                                leave
                            }
                        }
                        i := add(i, n)
                    }
                }
                pos := length
            }

            position := scan(ptr, len, noControls)
        }
    }
}
