// Hardhat is only the external EVM engine the tests follow (tests/hardhat.py): `npx hardhat
// node` serves a local chain over JSON-RPC and idfuse deploys its committed artifacts onto it.
// Nothing is compiled here (scripts/build_contracts compiles with the solc pinned in
// package.json), so `sources` points at an empty directory and Hardhat's cache and artifacts go
// to a git-ignored directory of their own.
module.exports = {
  solidity: "0.8.37",
  paths: {
    sources: "./hardhat/no-sources",
    cache: "./hardhat/cache",
    artifacts: "./hardhat/artifacts",
  },
  networks: {
    hardhat: {
      chainId: 31337,
      // tests/hardhat.py may ask for an older fork: "berlin" has no base fee (legacy gas prices).
      ...(process.env.IDFUSE_HARDHAT_HARDFORK ? { hardfork: process.env.IDFUSE_HARDHAT_HARDFORK } : {}),
    },
  },
};
