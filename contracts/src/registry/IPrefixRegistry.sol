// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IPrefixRegistry
/// @notice The hierarchy of identifier prefixes (`88` → `88.100` → `88.100.1`) with ENS-style
///         node ids, owners, operators, status, expiry and service records.
/// @dev Node ids: node("") = 0, node(p.label) = keccak256(node(p) ‖ keccak256(lower(label))).
///      Label and prefix rules are in docs/data-model.md. A prefix is *live* when it and every
///      ancestor are Active and unexpired; owners and operators can only act on live prefixes,
///      governance (the Consortium) can always act.
interface IPrefixRegistry {
    /// @notice A prefix's status. None means "not registered".
    enum Status {
        None,
        Active,
        Suspended,
        Revoked
    }

    /// @notice Where a prefix is served: resolver URLs, and optionally another chain.
    struct ServiceRecord {
        string[] resolvers;
        uint256 chainId; // 0 when served by this chain
        address registry; // IdentifierRegistry on chain `chainId`; zero when this chain
    }

    /// @notice A prefix as stored.
    struct PrefixRecord {
        string name; // the whole prefix as first registered, e.g. "88.100.1"
        bytes32 parent;
        address owner;
        address pendingOwner;
        Status status;
        uint64 expiry; // unix time; 0 for never
        uint64 changed; // block number of the last change
        bytes32 metadataHash;
    }

    // --- events (each carries the node and the plain prefix name) --------------------------

    /// @notice Prefix `name` was registered under `parent` for `owner`.
    event PrefixRegistered(bytes32 indexed node, bytes32 indexed parent, address indexed owner, string name, uint64 expiry);
    /// @notice `owner` proposed `pendingOwner` as the next owner of `name`.
    event PrefixTransferStarted(bytes32 indexed node, address indexed owner, address indexed pendingOwner, string name);
    /// @notice `owner` withdrew a pending transfer of `name`.
    event PrefixTransferCancelled(bytes32 indexed node, address indexed owner, string name);
    /// @notice Ownership of `name` moved from `previousOwner` to `newOwner`.
    event PrefixOwnershipTransferred(bytes32 indexed node, address indexed previousOwner, address indexed newOwner, string name);
    /// @notice `operator` was approved (or unapproved) to act for `name`.
    event PrefixOperatorChanged(bytes32 indexed node, address indexed operator, bool approved, string name);
    /// @notice `name`'s status became `status`, set by `by`.
    event PrefixStatusChanged(bytes32 indexed node, Status status, address indexed by, string name);
    /// @notice `name`'s expiry became `expiry` (0 for never).
    event PrefixRenewed(bytes32 indexed node, uint64 expiry, string name);
    /// @notice `name`'s service record changed.
    event PrefixServiceChanged(bytes32 indexed node, string[] resolvers, uint256 chainId, address registry, string name);
    /// @notice `name`'s metadata hash changed.
    event PrefixMetadataChanged(bytes32 indexed node, bytes32 metadataHash, string name);

    // --- errors ---------------------------------------------------------------------------

    /// @notice `caller` may not do this to `node`.
    error PrefixUnauthorized(bytes32 node, address caller);
    /// @notice Only the Consortium may do this; `caller` is not it.
    error PrefixOnlyConsortium(address caller);
    /// @notice No prefix has node id `node`.
    error PrefixNotFound(bytes32 node);
    /// @notice A label is empty.
    error PrefixLabelEmpty();
    /// @notice A label is `length` bytes, over `max`.
    error PrefixLabelTooLong(uint256 length, uint256 max);
    /// @notice A label holds a byte other than ASCII letters, digits and '-' at `position`.
    error PrefixLabelInvalidCharacter(uint256 position, bytes1 character);
    /// @notice The whole prefix would be `length` bytes, over `max`.
    error PrefixTooLong(uint256 length, uint256 max);
    /// @notice `node` (`name`) is registered already.
    error PrefixAlreadyRegistered(bytes32 node, string name);
    /// @notice `requested` differs from the registered `existing` only in case.
    error PrefixCaseConflict(bytes32 node, string existing, string requested);
    /// @notice `node` is not live because `blocking` (itself or an ancestor) has `status`.
    error PrefixInactive(bytes32 node, bytes32 blocking, Status status);
    /// @notice `node` is not live because `blocking` (itself or an ancestor) expired at `expiry`.
    error PrefixExpired(bytes32 node, bytes32 blocking, uint64 expiry);
    /// @notice `caller` is not the pending owner of `node`.
    error PrefixNotPendingOwner(bytes32 node, address caller);
    /// @notice The zero address cannot own a prefix.
    error PrefixZeroOwner();
    /// @notice `status` is not a status that can be set (None), or equals the current one.
    error PrefixInvalidStatus(bytes32 node, Status status);
    /// @notice `expiry` is in the past (and not 0).
    error PrefixInvalidExpiry(bytes32 node, uint64 expiry);
    /// @notice A service record is too large: more than 8 resolvers, a URL empty or over
    ///         256 bytes, or a registry given without a chain id (or the reverse).
    error PrefixInvalidService(uint256 resolverCount);

    // --- writes ---------------------------------------------------------------------------

    /// @notice Registers a top-level prefix. Consortium only (after a passed proposal).
    /// @param label The label, e.g. "88".
    /// @param owner The owner.
    /// @param expiry Unix time the allocation expires; 0 for never.
    /// @return node The new node id.
    function registerTopLevel(string calldata label, address owner, uint64 expiry) external returns (bytes32 node);

    /// @notice Registers `label` under `parent`. The parent's owner or an operator, parent live.
    /// @param parent The parent's node id.
    /// @param label The child label.
    /// @param owner The child's owner.
    /// @param expiry Unix time the child expires; 0 for never.
    /// @return node The new node id.
    function registerChild(bytes32 parent, string calldata label, address owner, uint64 expiry) external returns (bytes32 node);

    /// @notice Proposes `newOwner` as the next owner (step one of two). Owner only, live.
    /// @param node The prefix.
    /// @param newOwner The proposed owner; the zero address cancels a pending transfer.
    function transferOwnership(bytes32 node, address newOwner) external;

    /// @notice Accepts a pending transfer (step two). The pending owner only, live.
    /// @param node The prefix.
    function acceptOwnership(bytes32 node) external;

    /// @notice Approves or unapproves an operator, who may register children and identifiers.
    /// @param node The prefix. Owner only, live.
    /// @param operator The operator.
    /// @param approved True to approve.
    function setOperator(bytes32 node, address operator, bool approved) external;

    /// @notice Sets a prefix's status. The parent's owner (parent live) or the Consortium;
    ///         top-level prefixes by the Consortium only.
    /// @param node The prefix.
    /// @param status Active, Suspended or Revoked.
    function setStatus(bytes32 node, Status status) external;

    /// @notice Sets a prefix's expiry. The parent's owner (parent live) or the Consortium;
    ///         top-level prefixes by the Consortium only.
    /// @param node The prefix.
    /// @param expiry The new expiry, in the future, or 0 for never.
    function renew(bytes32 node, uint64 expiry) external;

    /// @notice Sets the service record. Owner only, live.
    /// @param node The prefix.
    /// @param service The record.
    function setService(bytes32 node, ServiceRecord calldata service) external;

    /// @notice Sets the metadata hash (e.g. of an off-chain registration dossier). Owner only, live.
    /// @param node The prefix.
    /// @param metadataHash The hash.
    function setMetadataHash(bytes32 node, bytes32 metadataHash) external;

    // --- views ----------------------------------------------------------------------------

    /// @notice The Consortium that governs top-level prefixes.
    /// @return The Consortium address.
    function consortium() external view returns (address);

    /// @notice A prefix's record (status None when not registered).
    /// @param node The prefix.
    /// @return The record.
    function prefix(bytes32 node) external view returns (PrefixRecord memory);

    /// @notice A prefix's service record.
    /// @param node The prefix.
    /// @return The service record.
    function service(bytes32 node) external view returns (ServiceRecord memory);

    /// @notice Whether `operator` is approved for `node`.
    /// @param node The prefix.
    /// @param operator The address.
    /// @return True when approved.
    function isOperator(bytes32 node, address operator) external view returns (bool);

    /// @notice Reverts with PrefixNotFound, PrefixInactive or PrefixExpired unless `node` is
    ///         live, and with PrefixUnauthorized unless `account` owns or operates it.
    /// @param node The prefix.
    /// @param account The would-be writer.
    function requireWritable(bytes32 node, address account) external view;

    /// @notice Reverts unless `node` and all its ancestors are Active and unexpired.
    /// @param node The prefix.
    function requireLive(bytes32 node) external view;

    /// @notice The node id of a whole prefix such as "88.100.1"; reverts on a malformed one.
    /// @param name The prefix.
    /// @return The node id.
    function nodeOf(string calldata name) external pure returns (bytes32);
}
