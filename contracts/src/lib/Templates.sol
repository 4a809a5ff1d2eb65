// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IIdentifierRegistry} from "../registry/IIdentifierRegistry.sol";
import {ValueCodec} from "./ValueCodec.sol";

/// @title Templates
/// @notice Data templates of docs/data-model.md: validation of a definition, its compact
///         storage form, and the check of a value encoding against it.
/// @dev Each field is stored as one *rule* word, so checking a record costs one storage read
///      per field: bits 255–48 the top 208 bits of keccak(valueType), bits 47–40 the
///      format, bit 32 required, bits 31–16 minLength, bits 15–0 maxLength. The type
///      strings are kept beside the rules only to answer `template(id)`.
///      A loaded template is a memory buffer `[fieldCount][requiredMask][rule × fieldCount]`
///      (34 words at most), filled by `load` and read by `check`.
library Templates {
    /// @notice A template as stored.
    struct Template {
        bytes32 prefixNode; // zero when no such template
        uint256[] rules;
        string[] types;
    }

    /// @notice The most fields a template has.
    uint256 internal constant MAX_FIELDS = 32;
    /// @notice The longest template name, in bytes.
    uint256 internal constant MAX_NAME = 64;
    /// @notice The field number TemplateInvalid reports for a bad name, version or field count.
    uint256 internal constant NOT_A_FIELD = type(uint256).max;
    /// @notice Bytes of memory a loaded template may need.
    uint256 internal constant BUFFER_SIZE = (MAX_FIELDS + 2) * 32;

    /// @notice templateId(prefixNode, name, version) = keccak(prefixNode ‖ keccak(name) ‖ version:uint32).
    /// @param prefixNode The prefix.
    /// @param name The name.
    /// @param version The version.
    /// @return The template id.
    function id(bytes32 prefixNode, string calldata name, uint32 version) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(prefixNode, keccak256(bytes(name)), version));
    }

    /// @notice Validates a definition and returns its rules, in field order.
    /// @dev Reverts TemplateInvalid(NOT_A_FIELD) for a name that is not 1–64 bytes of
    ///      printable ASCII (0x20–0x7E) or a version 0, then as `compileFields`.
    /// @param name The template name.
    /// @param version The version.
    /// @param fields The fields.
    /// @return rules One rule word per field.
    function compile(string calldata name, uint32 version, IIdentifierRegistry.TemplateField[] calldata fields)
        internal
        pure
        returns (uint256[] memory rules)
    {
        unchecked {
            bytes calldata raw = bytes(name);
            if (raw.length == 0 || raw.length > MAX_NAME || version == 0) {
                revert IIdentifierRegistry.TemplateInvalid(NOT_A_FIELD);
            }
            for (uint256 i; i < raw.length; ++i) {
                if (raw[i] < 0x20 || raw[i] > 0x7e) revert IIdentifierRegistry.TemplateInvalid(NOT_A_FIELD);
            }
        }
        return compileFields(fields);
    }

    /// @notice Validates a template's fields and returns their rules, in field order.
    /// @dev Reverts TemplateInvalid(NOT_A_FIELD) for a field count outside 1–32, and
    ///      TemplateInvalid(i) when field i has an invalid or reserved type, a type already
    ///      used by an earlier field, a format above 2, or not minLength ≤ maxLength ≤ 8192.
    /// @param fields The fields.
    /// @return rules One rule word per field.
    function compileFields(IIdentifierRegistry.TemplateField[] calldata fields)
        internal
        pure
        returns (uint256[] memory rules)
    {
        unchecked {
            uint256 count = fields.length;
            if (count == 0 || count > MAX_FIELDS) revert IIdentifierRegistry.TemplateInvalid(NOT_A_FIELD);
            rules = new uint256[](count);
            for (uint256 i; i < count; ++i) {
                uint256 rule = _rule(fields[i], i);
                for (uint256 j; j < i; ++j) {
                    if (rules[j] >> 48 == rule >> 48) revert IIdentifierRegistry.TemplateInvalid(i);
                }
                rules[i] = rule;
            }
        }
    }

    /// @notice Stores a compiled template.
    /// @param t The storage slot (must be empty).
    /// @param prefixNode The prefix it belongs to.
    /// @param rules Its rules.
    /// @param fields Its fields (for the type strings).
    function store(
        Template storage t,
        bytes32 prefixNode,
        uint256[] memory rules,
        IIdentifierRegistry.TemplateField[] calldata fields
    ) internal {
        t.prefixNode = prefixNode;
        for (uint256 i; i < rules.length; ++i) {
            t.rules.push(rules[i]);
            t.types.push(fields[i].valueType);
        }
    }

    /// @notice A stored template's fields, rebuilt from its rules and type strings.
    /// @param t The template.
    /// @return fields The fields.
    function fieldsOf(Template storage t) internal view returns (IIdentifierRegistry.TemplateField[] memory fields) {
        uint256 count = t.rules.length;
        fields = new IIdentifierRegistry.TemplateField[](count);
        for (uint256 i; i < count; ++i) {
            uint256 rule = t.rules[i];
            fields[i] = IIdentifierRegistry.TemplateField({
                valueType: t.types[i],
                format: uint8(rule >> 40),
                required: (rule >> 32) & 1 == 1,
                minLength: uint16(rule >> 16),
                maxLength: uint16(rule)
            });
        }
    }

    /// @notice Loads template `templateId` into the memory buffer `buffer`.
    /// @dev Reverts TemplateNotFound(templateId) unless it exists under `prefixNode`.
    /// @param t The template's storage.
    /// @param prefixNode The prefix the record belongs to.
    /// @param templateId The template id (for the error).
    /// @param buffer Memory address of BUFFER_SIZE free bytes.
    function load(Template storage t, bytes32 prefixNode, bytes32 templateId, uint256 buffer) internal view {
        if (t.prefixNode != prefixNode) revert IIdentifierRegistry.TemplateNotFound(templateId);
        uint256[] storage rules = t.rules;
        assembly ("memory-safe") {
            let count := sload(rules.slot)
            mstore(0, rules.slot)
            let slot := keccak256(0, 0x20)
            let required := 0
            let to := add(buffer, 0x40)
            for { let i := 0 } lt(i, count) { i := add(i, 1) } {
                let rule := sload(add(slot, i))
                mstore(add(to, shl(5, i)), rule)
                required := or(required, shl(i, and(shr(32, rule), 1)))
            }
            mstore(buffer, count)
            mstore(add(buffer, 0x20), required)
        }
    }

    /// @notice Loads a definition given as rules into the memory buffer `buffer` (for tests
    ///         and tools that check records without storage).
    /// @param rules The rules.
    /// @param buffer Memory address of BUFFER_SIZE free bytes.
    function loadRules(uint256[] memory rules, uint256 buffer) internal pure {
        uint256 required;
        for (uint256 i; i < rules.length; ++i) {
            uint256 rule = rules[i];
            required |= ((rule >> 32) & 1) << i;
            assembly ("memory-safe") {
                mstore(add(add(buffer, 0x40), shl(5, i)), rule)
            }
        }
        uint256 count = rules.length;
        assembly ("memory-safe") {
            mstore(buffer, count)
            mstore(add(buffer, 0x20), required)
        }
    }

    /// @notice Reverts unless the (valid) value encoding at memory `values` satisfies the
    ///         template loaded at `buffer`.
    /// @dev Values are checked in order: TemplateFieldUnknown(templateId, index) for a type
    ///      that is no field, TemplateFieldMismatch(templateId, index) for the wrong format or
    ///      a data length out of bounds; then TemplateFieldMissing(templateId, field) names
    ///      the lowest-numbered required field no value matched. Values may repeat a type.
    /// @param values Memory address of the encoding's count byte.
    /// @param templateId The template id (for errors).
    /// @param buffer The loaded template.
    function check(uint256 values, bytes32 templateId, uint256 buffer) internal pure {
        unchecked {
            uint256 count;
            uint256 fieldCount;
            uint256 required;
            assembly ("memory-safe") {
                count := shr(248, mload(values))
                fieldCount := mload(buffer)
                required := mload(add(buffer, 0x20))
            }
            uint256 rules = buffer + 0x40;
            uint256 rulesEnd = rules + (fieldCount << 5);
            uint256 p = values + 1;
            uint256 seen;
            for (uint256 i; i < count; ++i) {
                uint256 head;
                uint256 key;
                uint256 dataLength;
                assembly ("memory-safe") {
                    head := mload(p)
                    let typeLength := and(shr(168, head), 0xff)
                    let typeStart := add(p, 11)
                    key := shr(48, keccak256(typeStart, typeLength))
                    dataLength := shr(240, mload(add(typeStart, typeLength)))
                    p := add(add(typeStart, typeLength), add(2, dataLength))
                }
                uint256 cursor = rules;
                while (cursor < rulesEnd) {
                    uint256 rule;
                    assembly ("memory-safe") {
                        rule := mload(cursor)
                    }
                    if (rule >> 48 == key) {
                        if (
                            (rule >> 40) & 0xff != (head >> 208) & 0xff || dataLength < (rule >> 16) & 0xffff
                                || dataLength > rule & 0xffff
                        ) revert IIdentifierRegistry.TemplateFieldMismatch(templateId, uint32(head >> 224));
                        seen |= 1 << ((cursor - rules) >> 5);
                        break;
                    }
                    cursor += 0x20;
                }
                if (cursor == rulesEnd) revert IIdentifierRegistry.TemplateFieldUnknown(templateId, uint32(head >> 224));
            }
            uint256 missing = required & ~seen;
            if (missing != 0) {
                uint256 field;
                while (missing & 1 == 0) {
                    missing >>= 1;
                    ++field;
                }
                revert IIdentifierRegistry.TemplateFieldMissing(templateId, field);
            }
        }
    }

    /// @dev Validates one field and packs it into its rule word; reverts TemplateInvalid(number).
    function _rule(IIdentifierRegistry.TemplateField calldata field, uint256 number) private pure returns (uint256) {
        bytes calldata valueType = bytes(field.valueType);
        uint256 length = valueType.length;
        if (length == 0 || length > ValueCodec.MAX_TYPE) revert IIdentifierRegistry.TemplateInvalid(number);
        uint256 ptr;
        uint256 hash;
        assembly ("memory-safe") {
            ptr := mload(0x40)
            calldatacopy(ptr, valueType.offset, length)
            hash := keccak256(ptr, length)
        }
        if (!ValueCodec.isValidType(ptr, length) || ValueCodec.isReservedType(ptr, length)) {
            revert IIdentifierRegistry.TemplateInvalid(number);
        }
        uint8 format = field.format;
        uint16 minLength = field.minLength;
        uint16 maxLength = field.maxLength;
        if (format > ValueCodec.MAX_FORMAT || minLength > maxLength || maxLength > ValueCodec.MAX_DATA) {
            revert IIdentifierRegistry.TemplateInvalid(number);
        }
        return ((hash >> 48) << 48) | (uint256(format) << 40) | (uint256(field.required ? 1 : 0) << 32)
            | (uint256(minLength) << 16) | maxLength;
    }
}
