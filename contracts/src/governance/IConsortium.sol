// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @title IConsortium
/// @notice Membership and governance of an idfuse consortium chain: who may write, and the
///         votes that add members, change roles and allocate top-level prefixes.
/// @dev Voting members are those with role Validator or Member; auditors are members that may
///      send transactions but do not vote. A proposal passes when its yes votes reach
///      ceil(2/3 × voting members, counted at the time of the vote) and is executed in the
///      same transaction; it is rejected once that threshold can no longer be reached, or
///      when its deadline passes.
interface IConsortium {
    /// @notice A member's role.
    enum Role {
        None,
        Validator,
        Member,
        Auditor
    }

    /// @notice What a proposal does when it passes.
    enum ProposalKind {
        AddMember, // abi.encode(address account, string organisation, Role role)
        RemoveMember, // abi.encode(address account)
        ChangeRole, // abi.encode(address account, Role role)
        AllocatePrefix, // abi.encode(string label, address owner, uint64 expiry)
        SetPrefixStatus, // abi.encode(bytes32 node, IPrefixRegistry.Status status) as uint8
        RenewPrefix // abi.encode(bytes32 node, uint64 expiry)
    }

    /// @notice Where a proposal stands.
    enum ProposalState {
        None,
        Open,
        Executed,
        Rejected,
        Expired
    }

    /// @notice A proposal as stored.
    struct Proposal {
        ProposalKind kind;
        ProposalState state;
        address proposer;
        uint64 deadline;
        uint32 yes;
        uint32 no;
        bytes data;
    }

    /// @notice A member as stored.
    struct MemberInfo {
        Role role;
        string organisation;
    }

    // --- events ---------------------------------------------------------------------------

    /// @notice `account` joined as `role` on behalf of `organisation`.
    event MemberAdded(address indexed account, string organisation, Role role);
    /// @notice `account` left the consortium.
    event MemberRemoved(address indexed account);
    /// @notice `account`'s role changed from `previousRole` to `role`.
    event MemberRoleChanged(address indexed account, Role previousRole, Role role);
    /// @notice Proposal `id` was opened; `data` is the ABI encoding documented on ProposalKind.
    event ProposalCreated(uint256 indexed id, ProposalKind kind, address indexed proposer, bytes data, uint64 deadline);
    /// @notice `voter` voted on proposal `id`; `yes` and `no` are the running totals.
    event VoteCast(uint256 indexed id, address indexed voter, bool support, uint32 yes, uint32 no);
    /// @notice Proposal `id` passed and its action was carried out.
    event ProposalExecuted(uint256 indexed id);
    /// @notice Proposal `id` can no longer pass.
    event ProposalRejected(uint256 indexed id);
    /// @notice Proposal `id` passed its deadline without a decision (recorded by `expire`).
    event ProposalExpired(uint256 indexed id);
    /// @notice The bootstrap admin gave up its powers; governance is by vote alone from now on.
    event BootstrapRenounced(address indexed admin);
    /// @notice The prefix registry this consortium governs was bound (once).
    event RegistryBound(address indexed registry);
    /// @notice The voting period for new proposals changed.
    event VotingPeriodChanged(uint64 votingPeriod);

    // --- errors ---------------------------------------------------------------------------

    /// @notice `caller` is not the bootstrap admin, or bootstrap has ended.
    error ConsortiumNotBootstrapAdmin(address caller);
    /// @notice `account` is not a member.
    error ConsortiumNotMember(address account);
    /// @notice `account` may not vote or propose (it is not a validator or member).
    error ConsortiumNotVoter(address account);
    /// @notice `account` is already a member.
    error ConsortiumAlreadyMember(address account);
    /// @notice The zero address cannot be a member.
    error ConsortiumZeroAddress();
    /// @notice `role` is not a valid role for this operation.
    error ConsortiumInvalidRole(uint8 role);
    /// @notice The organisation name is empty or longer than 128 bytes.
    error ConsortiumInvalidOrganisation(uint256 length);
    /// @notice Removing or demoting `account` would leave no voting member.
    error ConsortiumLastVoter(address account);
    /// @notice No proposal has id `id`.
    error ConsortiumProposalNotFound(uint256 id);
    /// @notice Proposal `id` is no longer open.
    error ConsortiumProposalClosed(uint256 id, ProposalState state);
    /// @notice Proposal `id`'s deadline has passed.
    error ConsortiumProposalPastDeadline(uint256 id, uint64 deadline);
    /// @notice Proposal `id` is still open until `deadline`.
    error ConsortiumProposalStillOpen(uint256 id, uint64 deadline);
    /// @notice `voter` already voted on proposal `id`.
    error ConsortiumAlreadyVoted(uint256 id, address voter);
    /// @notice The registry is already bound.
    error ConsortiumRegistryAlreadyBound(address registry);
    /// @notice No registry is bound yet.
    error ConsortiumRegistryNotBound();
    /// @notice A voting period must be between 1 hour and 90 days.
    error ConsortiumInvalidVotingPeriod(uint64 votingPeriod);
    /// @notice `status` is not a prefix status a proposal may set (Active, Suspended or Revoked).
    error ConsortiumInvalidStatus(uint8 status);

    // --- bootstrap ------------------------------------------------------------------------

    /// @notice Binds the PrefixRegistry this consortium governs. Bootstrap admin only, once.
    /// @param registry The PrefixRegistry address.
    function bindRegistry(address registry) external;

    /// @notice Adds a member directly. Bootstrap admin only, until renounced.
    /// @param account The member's address.
    /// @param organisation The organisation's name (1–128 bytes).
    /// @param role Validator, Member or Auditor.
    function bootstrapAddMember(address account, string calldata organisation, Role role) external;

    /// @notice Allocates a top-level prefix directly. Bootstrap admin only, until renounced.
    /// @param label The top-level label, e.g. "88".
    /// @param owner The prefix's owner.
    /// @param expiry Unix time the allocation expires; 0 for never.
    /// @return node The new prefix's node id.
    function bootstrapAllocatePrefix(string calldata label, address owner, uint64 expiry) external returns (bytes32 node);

    /// @notice Ends the bootstrap phase for good.
    function renounceBootstrap() external;

    // --- proposals ------------------------------------------------------------------------

    /// @notice Opens a proposal to add `account` with `role`. Voting members only.
    /// @param account The new member.
    /// @param organisation Its organisation's name.
    /// @param role Validator, Member or Auditor.
    /// @return id The proposal id; the proposer's yes vote is counted.
    function proposeAddMember(address account, string calldata organisation, Role role) external returns (uint256 id);

    /// @notice Opens a proposal to remove `account`. Voting members only.
    /// @param account The member to remove.
    /// @return id The proposal id.
    function proposeRemoveMember(address account) external returns (uint256 id);

    /// @notice Opens a proposal to change `account`'s role. Voting members only.
    /// @param account The member.
    /// @param role The new role.
    /// @return id The proposal id.
    function proposeChangeRole(address account, Role role) external returns (uint256 id);

    /// @notice Opens a proposal to allocate the top-level prefix `label` to `owner`.
    /// @param label The label; validated now, so a malformed one never reaches a vote.
    /// @param owner The owner.
    /// @param expiry Unix time the allocation expires; 0 for never.
    /// @return id The proposal id.
    function proposeAllocatePrefix(string calldata label, address owner, uint64 expiry) external returns (uint256 id);

    /// @notice Opens a proposal to set any prefix's status (suspend, revoke, reactivate).
    /// @param node The prefix's node id.
    /// @param status The new status as IPrefixRegistry.Status.
    /// @return id The proposal id.
    function proposeSetPrefixStatus(bytes32 node, uint8 status) external returns (uint256 id);

    /// @notice Opens a proposal to set a top-level prefix's expiry.
    /// @param node The prefix's node id.
    /// @param expiry The new expiry; 0 for never.
    /// @return id The proposal id.
    function proposeRenewPrefix(bytes32 node, uint64 expiry) external returns (uint256 id);

    /// @notice Votes on an open proposal; executes it when the threshold is reached.
    /// @param id The proposal id.
    /// @param support True for yes.
    function vote(uint256 id, bool support) external;

    /// @notice Marks a proposal whose deadline has passed as expired. Anyone may call.
    /// @param id The proposal id.
    function expire(uint256 id) external;

    // --- views ----------------------------------------------------------------------------

    /// @notice Whether the ledger admits transactions from `account`: any member, or the
    ///         bootstrap admin while bootstrap lasts.
    /// @param account The sender.
    /// @return True when allowed.
    function isAllowedSender(address account) external view returns (bool);

    /// @notice A member's role and organisation (role None when not a member).
    /// @param account The address.
    /// @return The member record.
    function member(address account) external view returns (MemberInfo memory);

    /// @notice All current members, in the order they joined (removed ones left out).
    /// @return The addresses.
    function members() external view returns (address[] memory);

    /// @notice How many members may vote (validators and members).
    /// @return The count.
    function votingMembers() external view returns (uint256);

    /// @notice Yes votes a proposal needs now: ceil(2 × votingMembers / 3).
    /// @return The threshold.
    function threshold() external view returns (uint256);

    /// @notice A proposal.
    /// @param id The proposal id.
    /// @return The stored proposal.
    function proposal(uint256 id) external view returns (Proposal memory);

    /// @notice Whether `voter` has voted on proposal `id`.
    /// @param id The proposal id.
    /// @param voter The address.
    /// @return True when it has.
    function hasVoted(uint256 id, address voter) external view returns (bool);

    /// @notice The number of proposals ever opened (ids run from 1 to this).
    /// @return The count.
    function proposalCount() external view returns (uint256);

    /// @notice The bootstrap admin, or the zero address after renouncing.
    /// @return The admin.
    function bootstrapAdmin() external view returns (address);

    /// @notice The bound PrefixRegistry.
    /// @return The registry address (zero before binding).
    function registry() external view returns (address);

    /// @notice Seconds a new proposal stays open.
    /// @return The voting period.
    function votingPeriod() external view returns (uint64);
}
