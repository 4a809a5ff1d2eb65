// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IPrefixRegistry} from "./IPrefixRegistry.sol";
import {Labels} from "../lib/Labels.sol";

/// @title PrefixRegistry
/// @notice The hierarchy of identifier prefixes: top-level prefixes allocated by the
///         Consortium, children by their parent's owner or operators.
/// @dev Checks run in the order: existence, liveness, authorisation, arguments. Operators are
///      approved by the owner of the moment: a completed ownership transfer clears them (the
///      operator set is versioned, ENS `recordVersions` style, so clearing costs no loop).
contract PrefixRegistry is IPrefixRegistry {
    /// @notice Resolver URLs a service record may list.
    uint256 internal constant MAX_RESOLVERS = 8;
    /// @notice Longest resolver URL, in bytes.
    uint256 internal constant MAX_RESOLVER_LENGTH = 256;

    address private immutable _consortium;
    mapping(bytes32 node => PrefixRecord) private _prefixes;
    mapping(bytes32 node => ServiceRecord) private _services;
    mapping(bytes32 node => uint256) private _operatorVersions;
    mapping(bytes32 node => mapping(uint256 version => mapping(address operator => bool))) private _operators;

    /// @dev Reverts with PrefixOnlyConsortium unless the caller is the Consortium.
    modifier onlyConsortium() {
        _checkConsortium();
        _;
    }

    /// @dev Reverts unless `node` is live and the caller owns it.
    modifier onlyLiveOwner(bytes32 node) {
        _checkLiveOwner(node);
        _;
    }

    /// @param consortium_ The Consortium that governs top-level prefixes.
    constructor(address consortium_) {
        _consortium = consortium_;
    }

    // --- writes ---------------------------------------------------------------------------

    /// @inheritdoc IPrefixRegistry
    function registerTopLevel(string calldata label, address owner, uint64 expiry)
        external
        onlyConsortium
        returns (bytes32 node)
    {
        Labels.validate(label);
        node = Labels.childNode(bytes32(0), label);
        _register(node, bytes32(0), label, owner, expiry);
    }

    /// @inheritdoc IPrefixRegistry
    function registerChild(bytes32 parent, string calldata label, address owner, uint64 expiry)
        external
        returns (bytes32 node)
    {
        _requireWritable(parent, msg.sender);
        Labels.validate(label);
        string memory name = string.concat(_prefixes[parent].name, ".", label);
        uint256 length = bytes(name).length;
        if (length > Labels.MAX_PREFIX_LENGTH) revert PrefixTooLong(length, Labels.MAX_PREFIX_LENGTH);
        node = Labels.childNode(parent, label);
        _register(node, parent, name, owner, expiry);
    }

    /// @inheritdoc IPrefixRegistry
    /// @dev The zero address cancels a pending transfer (emitting PrefixTransferCancelled even
    ///      when none was pending, so the call is idempotent).
    function transferOwnership(bytes32 node, address newOwner) external onlyLiveOwner(node) {
        PrefixRecord storage record = _prefixes[node];
        record.pendingOwner = newOwner;
        record.changed = uint64(block.number);
        if (newOwner == address(0)) {
            emit PrefixTransferCancelled(node, msg.sender, record.name);
        } else {
            emit PrefixTransferStarted(node, msg.sender, newOwner, record.name);
        }
    }

    /// @inheritdoc IPrefixRegistry
    /// @dev Clears every operator the previous owner approved.
    function acceptOwnership(bytes32 node) external {
        _requireLive(node);
        PrefixRecord storage record = _prefixes[node];
        if (msg.sender != record.pendingOwner) revert PrefixNotPendingOwner(node, msg.sender);
        address previousOwner = record.owner;
        record.owner = msg.sender;
        record.pendingOwner = address(0);
        record.changed = uint64(block.number);
        ++_operatorVersions[node];
        emit PrefixOwnershipTransferred(node, previousOwner, msg.sender, record.name);
    }

    /// @inheritdoc IPrefixRegistry
    function setOperator(bytes32 node, address operator, bool approved) external onlyLiveOwner(node) {
        _operators[node][_operatorVersions[node]][operator] = approved;
        PrefixRecord storage record = _prefixes[node];
        record.changed = uint64(block.number);
        emit PrefixOperatorChanged(node, operator, approved, record.name);
    }

    /// @inheritdoc IPrefixRegistry
    /// @dev Any transition between Active, Suspended and Revoked is allowed.
    function setStatus(bytes32 node, Status status) external {
        PrefixRecord storage record = _checkGoverning(node);
        if (status == Status.None || status == record.status) revert PrefixInvalidStatus(node, status);
        record.status = status;
        record.changed = uint64(block.number);
        emit PrefixStatusChanged(node, status, msg.sender, record.name);
    }

    /// @inheritdoc IPrefixRegistry
    function renew(bytes32 node, uint64 expiry) external {
        PrefixRecord storage record = _checkGoverning(node);
        _checkExpiry(node, expiry);
        record.expiry = expiry;
        record.changed = uint64(block.number);
        emit PrefixRenewed(node, expiry, record.name);
    }

    /// @inheritdoc IPrefixRegistry
    function setService(bytes32 node, ServiceRecord calldata service_) external onlyLiveOwner(node) {
        uint256 count = service_.resolvers.length;
        if (count > MAX_RESOLVERS || (service_.chainId == 0) != (service_.registry == address(0))) {
            revert PrefixInvalidService(count);
        }
        for (uint256 i; i < count; ++i) {
            uint256 length = bytes(service_.resolvers[i]).length;
            if (length == 0 || length > MAX_RESOLVER_LENGTH) revert PrefixInvalidService(count);
        }
        _services[node] = service_;
        PrefixRecord storage record = _prefixes[node];
        record.changed = uint64(block.number);
        emit PrefixServiceChanged(node, service_.resolvers, service_.chainId, service_.registry, record.name);
    }

    /// @inheritdoc IPrefixRegistry
    function setMetadataHash(bytes32 node, bytes32 metadataHash) external onlyLiveOwner(node) {
        PrefixRecord storage record = _prefixes[node];
        record.metadataHash = metadataHash;
        record.changed = uint64(block.number);
        emit PrefixMetadataChanged(node, metadataHash, record.name);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IPrefixRegistry
    function consortium() external view returns (address) {
        return _consortium;
    }

    /// @inheritdoc IPrefixRegistry
    function prefix(bytes32 node) external view returns (PrefixRecord memory) {
        return _prefixes[node];
    }

    /// @inheritdoc IPrefixRegistry
    function service(bytes32 node) external view returns (ServiceRecord memory) {
        return _services[node];
    }

    /// @inheritdoc IPrefixRegistry
    function isOperator(bytes32 node, address operator) external view returns (bool) {
        return _isOperator(node, operator);
    }

    /// @inheritdoc IPrefixRegistry
    function requireWritable(bytes32 node, address account) external view {
        _requireWritable(node, account);
    }

    /// @inheritdoc IPrefixRegistry
    function requireLive(bytes32 node) external view {
        _requireLive(node);
    }

    /// @inheritdoc IPrefixRegistry
    function nodeOf(string calldata name) external pure returns (bytes32) {
        return Labels.nodeOf(name);
    }

    // --- internals ------------------------------------------------------------------------

    /// @dev Stores a new prefix after the checks every registration shares.
    function _register(bytes32 node, bytes32 parent, string memory name, address owner, uint64 expiry) private {
        PrefixRecord storage record = _prefixes[node];
        if (record.status != Status.None) {
            if (keccak256(bytes(record.name)) == keccak256(bytes(name))) revert PrefixAlreadyRegistered(node, name);
            revert PrefixCaseConflict(node, record.name, name);
        }
        if (owner == address(0)) revert PrefixZeroOwner();
        _checkExpiry(node, expiry);
        record.name = name;
        record.parent = parent;
        record.owner = owner;
        record.status = Status.Active;
        record.expiry = expiry;
        record.changed = uint64(block.number);
        emit PrefixRegistered(node, parent, owner, name, expiry);
    }

    /// @dev An expiry must be 0 (never) or still ahead.
    function _checkExpiry(bytes32 node, uint64 expiry) private view {
        if (expiry != 0 && expiry <= block.timestamp) revert PrefixInvalidExpiry(node, expiry);
    }

    function _checkConsortium() private view {
        if (msg.sender != _consortium) revert PrefixOnlyConsortium(msg.sender);
    }

    function _checkLiveOwner(bytes32 node) private view {
        _requireLive(node);
        if (msg.sender != _prefixes[node].owner) revert PrefixUnauthorized(node, msg.sender);
    }

    /// @dev Who may set status and expiry: the Consortium always (even on dead subtrees), and for
    ///      a child prefix the owner of its live parent. Returns the record to change.
    function _checkGoverning(bytes32 node) private view returns (PrefixRecord storage record) {
        record = _prefixes[node];
        if (record.status == Status.None) revert PrefixNotFound(node);
        if (msg.sender == _consortium) return record;
        bytes32 parent = record.parent;
        if (parent == bytes32(0)) revert PrefixOnlyConsortium(msg.sender);
        _requireLive(parent);
        if (msg.sender != _prefixes[parent].owner) revert PrefixUnauthorized(node, msg.sender);
    }

    function _isOperator(bytes32 node, address operator) private view returns (bool) {
        return _operators[node][_operatorVersions[node]][operator];
    }

    function _requireWritable(bytes32 node, address account) private view {
        _requireLive(node);
        if (account != _prefixes[node].owner && !_isOperator(node, account)) revert PrefixUnauthorized(node, account);
    }

    /// @dev Walks from `node` up to its top-level ancestor; the nearest blocking prefix wins.
    function _requireLive(bytes32 node) private view {
        if (_prefixes[node].status == Status.None) revert PrefixNotFound(node);
        bytes32 current = node;
        while (current != bytes32(0)) {
            PrefixRecord storage record = _prefixes[current];
            Status status = record.status;
            if (status != Status.Active) revert PrefixInactive(node, current, status);
            uint64 expiry = record.expiry;
            if (expiry != 0 && expiry <= block.timestamp) revert PrefixExpired(node, current, expiry);
            current = record.parent;
        }
    }
}
