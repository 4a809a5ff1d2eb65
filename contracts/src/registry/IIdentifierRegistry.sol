// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IIdentifierRegistry
/// @notice Identifiers (handles) under live prefixes: per handle a version and one storage
///         word (the commitment of its canonical values); per batch a Merkle root and count.
/// @dev Encodings, commitments and the Merkle tree are specified in docs/data-model.md.
///      Full values travel in events (and batch records in calldata), never in storage.
///      Writers are the owner or an operator of the handle's prefix, which must be live.
interface IIdentifierRegistry {
    /// @notice A template field: a value type a record may carry and its bounds.
    struct TemplateField {
        string valueType;
        uint8 format;
        bool required;
        uint16 minLength;
        uint16 maxLength;
    }

    /// @notice A batch as stored.
    struct Batch {
        bytes32 prefixNode;
        bytes32 root;
        uint32 count;
        uint64 blockNumber;
    }

    // --- events ---------------------------------------------------------------------------

    /// @notice Handle `prefixNode`/`suffix` was created (or pinned over a batch record)
    ///         with `values` (canonical encoding) under `template`.
    event IdentifierCreated(bytes32 indexed handleKey, bytes32 indexed prefixNode, string suffix, bytes32 template, bytes values, uint64 version, bytes32 commitment);
    /// @notice Handle `prefixNode`/`suffix` now holds `values` (the whole new set).
    event IdentifierUpdated(bytes32 indexed handleKey, bytes32 indexed prefixNode, string suffix, bytes32 template, bytes values, uint64 version, bytes32 commitment);
    /// @notice Handle `prefixNode`/`suffix` was deleted.
    event IdentifierDeleted(bytes32 indexed handleKey, bytes32 indexed prefixNode, string suffix, uint64 version);
    /// @notice Batch `batchId` of `count` records under `prefixNode` was registered by
    ///         `registrant`; the records are in the transaction's calldata, and
    ///         `recordsHash = keccak256(records)` lets an indexer confirm it decoded them.
    event BatchRegistered(uint256 indexed batchId, bytes32 indexed prefixNode, address indexed registrant, bytes32 root, uint32 count, bytes32 recordsHash);
    /// @notice Template `name` v`version` was registered under `prefixNode`.
    event TemplateRegistered(bytes32 indexed templateId, bytes32 indexed prefixNode, string name, uint32 version, TemplateField[] fields);

    // --- errors ---------------------------------------------------------------------------

    /// @notice The suffix is empty or over 255 bytes.
    error SuffixInvalidLength(uint256 length);
    /// @notice The suffix holds a control character or malformed UTF-8 at byte `position`.
    error SuffixInvalidCharacter(uint256 position);
    /// @notice The value encoding is truncated, has trailing bytes or is otherwise malformed at `offset`.
    error ValuesMalformed(uint256 offset);
    /// @notice More than `max` values.
    error ValuesTooMany(uint256 count, uint256 max);
    /// @notice Value indexes are not strictly ascending: `index` follows `previous`.
    error ValuesUnordered(uint32 previous, uint32 index);
    /// @notice `index` is 0 or reserved (100, 101).
    error ValueIndexInvalid(uint32 index);
    /// @notice The value at `index` has an empty, over-long or non-printable type.
    error ValueTypeInvalid(uint32 index);
    /// @notice The value at `index` has a type reserved for derived values (HS_ADMIN, HS_SITE…, HS_SERV).
    error ValueTypeReserved(uint32 index);
    /// @notice The value at `index` has a format other than string (0), base64 (1), hex (2).
    error ValueFormatInvalid(uint32 index, uint8 format);
    /// @notice The value at `index` has permissions above 15.
    error ValuePermissionsInvalid(uint32 index, uint8 permissions);
    /// @notice The value at `index` has `length` bytes of data, over `max`.
    error ValueDataTooLong(uint32 index, uint256 length, uint256 max);
    /// @notice The string-format value at `index` is not well-formed UTF-8.
    error ValueDataNotUtf8(uint32 index);
    /// @notice An update removes `index`, which the handle does not hold.
    error ValueIndexNotFound(uint32 index);
    /// @notice The handle exists already (its storage word holds a live commitment).
    error IdentifierAlreadyExists(bytes32 handleKey);
    /// @notice The handle has no individual record, or was deleted.
    error IdentifierNotFound(bytes32 handleKey);
    /// @notice The current values given do not match the stored commitment.
    error IdentifierStaleValues(bytes32 handleKey, bytes32 stored, bytes32 given);
    /// @notice No template `templateId` under the handle's prefix.
    error TemplateNotFound(bytes32 templateId);
    /// @notice Template `templateId` exists already.
    error TemplateAlreadyExists(bytes32 templateId);
    /// @notice A template definition is malformed (name, version, field count, field `field`).
    error TemplateInvalid(uint256 field);
    /// @notice The value at `index` has a type that template `templateId` does not define.
    error TemplateFieldUnknown(bytes32 templateId, uint32 index);
    /// @notice The value at `index` breaks template `templateId`'s format or length bounds.
    error TemplateFieldMismatch(bytes32 templateId, uint32 index);
    /// @notice A required field (number `field` of template `templateId`) is missing.
    error TemplateFieldMissing(bytes32 templateId, uint256 field);
    /// @notice A batch has no records.
    error BatchEmpty();
    /// @notice A batch has more than `max` records.
    error BatchTooLarge(uint256 max);
    /// @notice The record starting at byte `offset` is truncated or malformed.
    error BatchMalformed(uint256 offset);
    /// @notice The record starting at byte `offset` is not after its predecessor in handle-key order.
    error BatchUnordered(uint256 offset);

    // --- writes ---------------------------------------------------------------------------

    /// @notice Creates a handle, or re-creates a deleted one, or pins a batch-registered one.
    /// @param prefixNode The handle's prefix (live; caller its owner or operator).
    /// @param suffix The suffix.
    /// @param template A template id under the prefix, or zero.
    /// @param values The canonical value encoding.
    /// @return handleKey The handle key.
    function createIdentifier(bytes32 prefixNode, string calldata suffix, bytes32 template, bytes calldata values) external returns (bytes32 handleKey);

    /// @notice Adds, replaces and removes values by index.
    /// @param prefixNode The handle's prefix.
    /// @param suffix The suffix.
    /// @param template The handle's template (as committed).
    /// @param currentValues The values as committed now (checked against the commitment).
    /// @param upserts Values to add or replace, canonical encoding.
    /// @param removals Indexes to remove, strictly ascending; each must exist.
    /// @return version The handle's new version.
    function updateIdentifier(bytes32 prefixNode, string calldata suffix, bytes32 template, bytes calldata currentValues, bytes calldata upserts, uint32[] calldata removals) external returns (uint64 version);

    /// @notice Deletes a handle (its storage word becomes the tombstone).
    /// @param prefixNode The handle's prefix.
    /// @param suffix The suffix.
    /// @return version The handle's new version.
    function deleteIdentifier(bytes32 prefixNode, string calldata suffix) external returns (uint64 version);

    /// @notice Registers a batch of records (encoding in docs/data-model.md) in one transaction.
    /// @param prefixNode The prefix all records belong to.
    /// @param records The packed records, sorted by handle key.
    /// @return batchId The new batch id (from 1).
    /// @return root The Merkle root of the records.
    function registerBatch(bytes32 prefixNode, bytes calldata records) external returns (uint256 batchId, bytes32 root);

    /// @notice Registers an immutable data template under a prefix. Owner or operator.
    /// @param prefixNode The prefix.
    /// @param name The template name (1–64 printable ASCII bytes).
    /// @param version The template version (≥ 1).
    /// @param fields The fields (1–32).
    /// @return templateId The template id.
    function registerTemplate(bytes32 prefixNode, string calldata name, uint32 version, TemplateField[] calldata fields) external returns (bytes32 templateId);

    // --- views ----------------------------------------------------------------------------

    /// @notice The PrefixRegistry this registry defers to.
    /// @return The address.
    function prefixRegistry() external view returns (address);

    /// @notice A handle's storage word: 0 never written individually, 1 deleted, else the commitment.
    /// @param handleKey The handle key.
    /// @return The word.
    function commitmentOf(bytes32 handleKey) external view returns (bytes32);

    /// @notice A handle's version (number of individual writes).
    /// @param handleKey The handle key.
    /// @return The version.
    function versionOf(bytes32 handleKey) external view returns (uint64);

    /// @notice A batch.
    /// @param batchId The batch id.
    /// @return The stored batch (prefixNode zero when unknown).
    function batch(uint256 batchId) external view returns (Batch memory);

    /// @notice How many batches were registered.
    /// @return The count.
    function batchCount() external view returns (uint256);

    /// @notice A template's prefix and fields (prefix zero when unknown).
    /// @param templateId The template id.
    /// @return prefixNode The prefix it belongs to.
    /// @return fields Its fields.
    function template(bytes32 templateId) external view returns (bytes32 prefixNode, TemplateField[] memory fields);
}
