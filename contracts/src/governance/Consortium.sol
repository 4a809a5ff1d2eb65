// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IConsortium} from "./IConsortium.sol";
import {IPrefixRegistry} from "../registry/IPrefixRegistry.sol";
import {Labels} from "../lib/Labels.sol";

/// @title Consortium
/// @notice Members, roles and 2/3 governance of an idfuse consortium chain, plus the write
///         allowlist the ledger enforces.
/// @dev Invariants: there is always at least one voting member (the constructor's first member
///      must vote; removing or demoting the last voter reverts with ConsortiumLastVoter).
///      Proposals are checked when opened and again when executed; if execution reverts (say
///      the label was allocated meanwhile), the vote that would have passed it reverts with
///      that error and the proposal stays open until it is rejected or expires.
///      A proposal is rejected when yes + (voting members − votes cast) < threshold, evaluated
///      after each vote. A proposal is open for votes while block.timestamp ≤ deadline.
///      Members are kept in a linked list so removal keeps join order in O(1).
contract Consortium is IConsortium {
    /// @notice Shortest voting period a proposal may be given.
    uint64 internal constant MIN_VOTING_PERIOD = 1 hours;
    /// @notice Longest voting period a proposal may be given.
    uint64 internal constant MAX_VOTING_PERIOD = 90 days;
    /// @notice Longest organisation name, in bytes.
    uint256 internal constant MAX_ORGANISATION_LENGTH = 128;

    address private _bootstrapAdmin;
    address private _registry;
    uint64 private _votingPeriod;
    uint256 private _votingMembers;
    uint256 private _proposalCount;

    mapping(address account => MemberInfo) private _members;
    // Members in join order: a doubly linked list over addresses, head/tail at the ends.
    address private _firstMember;
    address private _lastMember;
    uint256 private _memberCount;
    mapping(address account => address) private _nextMember;
    mapping(address account => address) private _previousMember;

    mapping(uint256 id => Proposal) private _proposals;
    mapping(uint256 id => mapping(address voter => bool)) private _voted;

    /// @dev Reverts with ConsortiumNotBootstrapAdmin unless the caller is the bootstrap admin.
    modifier onlyBootstrapAdmin() {
        _checkBootstrapAdmin();
        _;
    }

    /// @dev Reverts unless the caller is a validator or a member.
    modifier onlyVoter() {
        _checkVoter(msg.sender);
        _;
    }

    /// @param admin The bootstrap admin, also the first member.
    /// @param organisation The admin's organisation (1–128 bytes).
    /// @param role The admin's role: Validator or Member (the first member must be able to vote).
    /// @param votingPeriod_ Seconds a proposal stays open (1 hour to 90 days).
    constructor(address admin, string memory organisation, Role role, uint64 votingPeriod_) {
        if (role != Role.Validator && role != Role.Member) revert ConsortiumInvalidRole(uint8(role));
        if (votingPeriod_ < MIN_VOTING_PERIOD || votingPeriod_ > MAX_VOTING_PERIOD) {
            revert ConsortiumInvalidVotingPeriod(votingPeriod_);
        }
        _addMember(admin, organisation, role);
        _bootstrapAdmin = admin;
        _votingPeriod = votingPeriod_;
        emit VotingPeriodChanged(votingPeriod_);
    }

    // --- bootstrap ------------------------------------------------------------------------

    /// @inheritdoc IConsortium
    function bindRegistry(address registry_) external onlyBootstrapAdmin {
        if (_registry != address(0)) revert ConsortiumRegistryAlreadyBound(_registry);
        if (registry_ == address(0)) revert ConsortiumZeroAddress();
        _registry = registry_;
        emit RegistryBound(registry_);
    }

    /// @inheritdoc IConsortium
    function bootstrapAddMember(address account, string calldata organisation, Role role)
        external
        onlyBootstrapAdmin
    {
        _addMember(account, organisation, role);
    }

    /// @inheritdoc IConsortium
    function bootstrapAllocatePrefix(string calldata label, address owner, uint64 expiry)
        external
        onlyBootstrapAdmin
        returns (bytes32 node)
    {
        return _boundRegistry().registerTopLevel(label, owner, expiry);
    }

    /// @inheritdoc IConsortium
    function renounceBootstrap() external onlyBootstrapAdmin {
        _bootstrapAdmin = address(0);
        emit BootstrapRenounced(msg.sender);
    }

    // --- proposals ------------------------------------------------------------------------

    /// @inheritdoc IConsortium
    function proposeAddMember(address account, string calldata organisation, Role role)
        external
        onlyVoter
        returns (uint256 id)
    {
        _checkNewMember(account, organisation, role);
        return _propose(ProposalKind.AddMember, abi.encode(account, organisation, role));
    }

    /// @inheritdoc IConsortium
    function proposeRemoveMember(address account) external onlyVoter returns (uint256 id) {
        _checkRemoval(account);
        return _propose(ProposalKind.RemoveMember, abi.encode(account));
    }

    /// @inheritdoc IConsortium
    /// @dev The new role must be Validator, Member or Auditor and differ from the current one.
    function proposeChangeRole(address account, Role role) external onlyVoter returns (uint256 id) {
        _checkRoleChange(account, role);
        return _propose(ProposalKind.ChangeRole, abi.encode(account, role));
    }

    /// @inheritdoc IConsortium
    /// @dev Also refuses a zero owner (PrefixZeroOwner) or an expiry already past
    ///      (PrefixInvalidExpiry), which the registry would refuse at execution.
    function proposeAllocatePrefix(string calldata label, address owner, uint64 expiry)
        external
        onlyVoter
        returns (uint256 id)
    {
        Labels.validate(label);
        if (owner == address(0)) revert IPrefixRegistry.PrefixZeroOwner();
        _checkExpiry(Labels.childNode(bytes32(0), label), expiry);
        return _propose(ProposalKind.AllocatePrefix, abi.encode(label, owner, expiry));
    }

    /// @inheritdoc IConsortium
    /// @dev `status` must be Active, Suspended or Revoked (1–3), else ConsortiumInvalidStatus.
    function proposeSetPrefixStatus(bytes32 node, uint8 status) external onlyVoter returns (uint256 id) {
        if (status == uint8(IPrefixRegistry.Status.None) || status > uint8(IPrefixRegistry.Status.Revoked)) {
            revert ConsortiumInvalidStatus(status);
        }
        return _propose(ProposalKind.SetPrefixStatus, abi.encode(node, status));
    }

    /// @inheritdoc IConsortium
    /// @dev Refuses an expiry already past (PrefixInvalidExpiry), as the registry would.
    function proposeRenewPrefix(bytes32 node, uint64 expiry) external onlyVoter returns (uint256 id) {
        _checkExpiry(node, expiry);
        return _propose(ProposalKind.RenewPrefix, abi.encode(node, expiry));
    }

    /// @inheritdoc IConsortium
    function vote(uint256 id, bool support) external onlyVoter {
        Proposal storage p = _openProposal(id);
        if (block.timestamp > p.deadline) revert ConsortiumProposalPastDeadline(id, p.deadline);
        if (_voted[id][msg.sender]) revert ConsortiumAlreadyVoted(id, msg.sender);
        _voted[id][msg.sender] = true;
        if (support) {
            ++p.yes;
        } else {
            ++p.no;
        }
        emit VoteCast(id, msg.sender, support, p.yes, p.no);
        _settle(id, p);
    }

    /// @inheritdoc IConsortium
    function expire(uint256 id) external {
        Proposal storage p = _openProposal(id);
        if (block.timestamp <= p.deadline) revert ConsortiumProposalStillOpen(id, p.deadline);
        p.state = ProposalState.Expired;
        emit ProposalExpired(id);
    }

    // --- views ----------------------------------------------------------------------------

    /// @inheritdoc IConsortium
    function isAllowedSender(address account) external view returns (bool) {
        return _members[account].role != Role.None || (account != address(0) && account == _bootstrapAdmin);
    }

    /// @inheritdoc IConsortium
    function member(address account) external view returns (MemberInfo memory) {
        return _members[account];
    }

    /// @inheritdoc IConsortium
    function members() external view returns (address[] memory list) {
        list = new address[](_memberCount);
        address current = _firstMember;
        for (uint256 i; i < list.length; ++i) {
            list[i] = current;
            current = _nextMember[current];
        }
    }

    /// @inheritdoc IConsortium
    function votingMembers() external view returns (uint256) {
        return _votingMembers;
    }

    /// @inheritdoc IConsortium
    function threshold() external view returns (uint256) {
        return _threshold();
    }

    /// @inheritdoc IConsortium
    /// @dev An unknown id gives an empty proposal (state None).
    function proposal(uint256 id) external view returns (Proposal memory) {
        return _proposals[id];
    }

    /// @inheritdoc IConsortium
    function hasVoted(uint256 id, address voter) external view returns (bool) {
        return _voted[id][voter];
    }

    /// @inheritdoc IConsortium
    function proposalCount() external view returns (uint256) {
        return _proposalCount;
    }

    /// @inheritdoc IConsortium
    function bootstrapAdmin() external view returns (address) {
        return _bootstrapAdmin;
    }

    /// @inheritdoc IConsortium
    function registry() external view returns (address) {
        return _registry;
    }

    /// @inheritdoc IConsortium
    function votingPeriod() external view returns (uint64) {
        return _votingPeriod;
    }

    // --- proposal internals ---------------------------------------------------------------

    /// @dev Opens a proposal with the proposer's yes vote counted, then settles it (so with a
    ///      single voting member it executes at once).
    function _propose(ProposalKind kind, bytes memory data) private returns (uint256 id) {
        id = ++_proposalCount;
        uint64 deadline = uint64(block.timestamp) + _votingPeriod;
        Proposal storage p = _proposals[id];
        p.kind = kind;
        p.state = ProposalState.Open;
        p.proposer = msg.sender;
        p.deadline = deadline;
        p.yes = 1;
        p.data = data;
        _voted[id][msg.sender] = true;
        emit ProposalCreated(id, kind, msg.sender, data, deadline);
        emit VoteCast(id, msg.sender, true, 1, 0);
        _settle(id, p);
    }

    /// @dev Executes the proposal once its yes votes reach the threshold; rejects it once they
    ///      no longer can, counting every voting member who has not voted as a possible yes.
    function _settle(uint256 id, Proposal storage p) private {
        uint256 needed = _threshold();
        uint256 cast = uint256(p.yes) + p.no;
        uint256 outstanding = _votingMembers > cast ? _votingMembers - cast : 0;
        if (p.yes >= needed) {
            p.state = ProposalState.Executed;
            _execute(p.kind, p.data);
            emit ProposalExecuted(id);
        } else if (p.yes + outstanding < needed) {
            p.state = ProposalState.Rejected;
            emit ProposalRejected(id);
        }
    }

    /// @dev Carries out a passed proposal, re-checking what may have changed since it opened.
    function _execute(ProposalKind kind, bytes memory data) private {
        if (kind == ProposalKind.AddMember) {
            (address account, string memory organisation, Role role) = abi.decode(data, (address, string, Role));
            _addMember(account, organisation, role);
        } else if (kind == ProposalKind.RemoveMember) {
            _removeMember(abi.decode(data, (address)));
        } else if (kind == ProposalKind.ChangeRole) {
            (address account, Role role) = abi.decode(data, (address, Role));
            _changeRole(account, role);
        } else if (kind == ProposalKind.AllocatePrefix) {
            (string memory label, address owner, uint64 expiry) = abi.decode(data, (string, address, uint64));
            _boundRegistry().registerTopLevel(label, owner, expiry);
        } else if (kind == ProposalKind.SetPrefixStatus) {
            (bytes32 node, uint8 status) = abi.decode(data, (bytes32, uint8));
            _boundRegistry().setStatus(node, IPrefixRegistry.Status(status));
        } else {
            (bytes32 node, uint64 expiry) = abi.decode(data, (bytes32, uint64));
            _boundRegistry().renew(node, expiry);
        }
    }

    /// @dev The proposal `id`, which must exist and be open.
    function _openProposal(uint256 id) private view returns (Proposal storage p) {
        if (id == 0 || id > _proposalCount) revert ConsortiumProposalNotFound(id);
        p = _proposals[id];
        if (p.state != ProposalState.Open) revert ConsortiumProposalClosed(id, p.state);
    }

    function _threshold() private view returns (uint256) {
        return (2 * _votingMembers + 2) / 3;
    }

    // --- membership internals -------------------------------------------------------------

    function _addMember(address account, string memory organisation, Role role) private {
        _checkNewMember(account, organisation, role);
        _members[account] = MemberInfo({role: role, organisation: organisation});
        if (_isVotingRole(role)) ++_votingMembers;
        address last = _lastMember;
        if (last == address(0)) {
            _firstMember = account;
        } else {
            _nextMember[last] = account;
            _previousMember[account] = last;
        }
        _lastMember = account;
        ++_memberCount;
        emit MemberAdded(account, organisation, role);
    }

    function _removeMember(address account) private {
        _checkRemoval(account);
        if (_isVotingRole(_members[account].role)) --_votingMembers;
        delete _members[account];
        address previous = _previousMember[account];
        address next = _nextMember[account];
        if (previous == address(0)) _firstMember = next;
        else _nextMember[previous] = next;
        if (next == address(0)) _lastMember = previous;
        else _previousMember[next] = previous;
        delete _previousMember[account];
        delete _nextMember[account];
        --_memberCount;
        emit MemberRemoved(account);
    }

    function _changeRole(address account, Role role) private {
        _checkRoleChange(account, role);
        Role previous = _members[account].role;
        _members[account].role = role;
        if (_isVotingRole(previous) && !_isVotingRole(role)) --_votingMembers;
        else if (!_isVotingRole(previous) && _isVotingRole(role)) ++_votingMembers;
        emit MemberRoleChanged(account, previous, role);
    }

    function _checkNewMember(address account, string memory organisation, Role role) private view {
        if (account == address(0)) revert ConsortiumZeroAddress();
        if (_members[account].role != Role.None) revert ConsortiumAlreadyMember(account);
        if (role == Role.None) revert ConsortiumInvalidRole(uint8(role));
        uint256 length = bytes(organisation).length;
        if (length == 0 || length > MAX_ORGANISATION_LENGTH) revert ConsortiumInvalidOrganisation(length);
    }

    function _checkRemoval(address account) private view {
        Role role = _members[account].role;
        if (role == Role.None) revert ConsortiumNotMember(account);
        if (_isVotingRole(role) && _votingMembers == 1) revert ConsortiumLastVoter(account);
    }

    function _checkRoleChange(address account, Role role) private view {
        Role current = _members[account].role;
        if (current == Role.None) revert ConsortiumNotMember(account);
        if (role == Role.None || role == current) revert ConsortiumInvalidRole(uint8(role));
        if (_isVotingRole(current) && !_isVotingRole(role) && _votingMembers == 1) {
            revert ConsortiumLastVoter(account);
        }
    }

    // --- access internals -----------------------------------------------------------------

    function _checkBootstrapAdmin() private view {
        if (msg.sender != _bootstrapAdmin) revert ConsortiumNotBootstrapAdmin(msg.sender);
    }

    function _checkVoter(address account) private view {
        Role role = _members[account].role;
        if (role == Role.None) revert ConsortiumNotMember(account);
        if (!_isVotingRole(role)) revert ConsortiumNotVoter(account);
    }

    function _boundRegistry() private view returns (IPrefixRegistry) {
        address registry_ = _registry;
        if (registry_ == address(0)) revert ConsortiumRegistryNotBound();
        return IPrefixRegistry(registry_);
    }

    function _checkExpiry(bytes32 node, uint64 expiry) private view {
        if (expiry != 0 && expiry <= block.timestamp) revert IPrefixRegistry.PrefixInvalidExpiry(node, expiry);
    }

    function _isVotingRole(Role role) private pure returns (bool) {
        return role == Role.Validator || role == Role.Member;
    }
}
