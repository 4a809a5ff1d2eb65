// ethers.js v6 against the idfuse JSON-RPC server, as a dapp would use it.
//
// Usage: node ethers_client.mjs RPC_URL PRIVATE_KEY ARTIFACT_JSON_PATH
// Deploys the artifact (the Consortium) with the wallet as bootstrap admin, adds a member,
// reads it back, decodes a custom-error revert, queries the MemberAdded logs and prints one
// JSON object on stdout. Resolved from contracts/node_modules (scripts/bootstrap installs it).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, "..", "..", "..", "contracts", "package.json"));
const { ContractFactory, Interface, JsonRpcProvider, Wallet, Contract, version } = require("ethers");

const [url, key, artifactPath] = process.argv.slice(2);
const artifact = JSON.parse(readFileSync(artifactPath, "utf8"));
const MEMBER = "0x" + "44".repeat(20);

// ethers caches identical requests for 250 ms by default; blocks here come faster than that, so a
// cached pending nonce from before the deployment would be reused. Turn the cache off.
const provider = new JsonRpcProvider(url, undefined, { staticNetwork: true, pollingInterval: 50, cacheTimeout: -1 });
const wallet = new Wallet(key, provider);
const iface = new Interface(artifact.abi);

const network = await provider.getNetwork();
const genesis = await provider.getBlock(0);
const latest = await provider.getBlock("latest");

const factory = new ContractFactory(artifact.abi, artifact.bytecode, wallet);
const deployed = await factory.deploy(wallet.address, "Org", 1, 3600);
const deployReceipt = await deployed.deploymentTransaction().wait(1, 30_000);
const address = await deployed.getAddress();
const consortium = new Contract(address, artifact.abi, wallet);

const tx = await consortium.bootstrapAddMember(MEMBER, "Member org", 1);
const receipt = await tx.wait(1, 30_000);
const minedBlock = await provider.getBlock(receipt.blockNumber, true);

const allowed = await consortium.isAllowedSender(MEMBER);
const stranger = await consortium.isAllowedSender("0x" + "55".repeat(20));

let revert = null;
try {
  await consortium.bootstrapAddMember.staticCall(MEMBER, "Again", 1);
} catch (error) {
  const parsed = iface.parseError(error.data);
  revert = { code: error.code, data: error.data, name: parsed.name, args: parsed.args.map(String) };
}
let estimateRevert = null;
try {
  await consortium.bootstrapAddMember.estimateGas(MEMBER, "Again", 1);
} catch (error) {
  const parsed = iface.parseError(error.data);
  estimateRevert = { name: parsed.name, args: parsed.args.map(String) };
}

const filter = consortium.filters.MemberAdded(MEMBER);
const events = await consortium.queryFilter(filter, 0, "latest");
const rawLogs = await provider.getLogs({ address, topics: [iface.getEvent("MemberAdded").topicHash], fromBlock: 0 });

console.log(JSON.stringify({
  ethersVersion: version,
  chainId: network.chainId.toString(),
  genesis: { number: genesis.number, hash: genesis.hash, extraData: genesis.extraData },
  latest: { number: latest.number, hash: latest.hash, extraData: latest.extraData, miner: latest.miner },
  deploy: { address, contractAddress: deployReceipt.contractAddress, status: deployReceipt.status, blockNumber: deployReceipt.blockNumber },
  wallet: wallet.address,
  member: MEMBER,
  send: {
    hash: tx.hash,
    type: tx.type,
    status: receipt.status,
    blockNumber: receipt.blockNumber,
    blockHash: receipt.blockHash,
    gasUsed: receipt.gasUsed.toString(),
    logs: receipt.logs.length,
    minedBlockHash: minedBlock.hash,
    minedTransactions: minedBlock.prefetchedTransactions.map((t) => t.hash),
  },
  view: { allowed, stranger },
  revert,
  estimateRevert,
  events: events.map((e) => ({ name: e.eventName, args: e.args.map(String), blockNumber: e.blockNumber, tx: e.transactionHash })),
  rawLogs: rawLogs.length,
}));
provider.destroy();
