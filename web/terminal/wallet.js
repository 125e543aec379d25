// The wallet: an EIP-1193 browser wallet when there is one, else a devnet burner key kept in this
// browser. Everything the exchange takes is EIP-712 typed data signed here, with the API's types
// (offchain/api/signing.py, offchain/api/auth.py).
import {
  createPublicClient,
  createWalletClient,
  custom,
  http,
  encodeFunctionData,
  parseAbi,
  keccak256,
  concat,
  pad,
  getAddress,
} from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";

const BURNER_KEY = "breakwater.burner.v1";

export const TYPES = {
  Order: [
    { name: "account", type: "address" },
    { name: "symbol", type: "string" },
    { name: "side", type: "string" },
    { name: "type", type: "string" },
    { name: "price", type: "string" },
    { name: "qty", type: "string" },
    { name: "tif", type: "string" },
    { name: "client_id", type: "string" },
    { name: "post_only", type: "bool" },
    { name: "reduce_only", type: "bool" },
    { name: "stp", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  Cancel: [
    { name: "account", type: "address" },
    { name: "oid", type: "uint256" },
    { name: "client_id", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  Amend: [
    { name: "account", type: "address" },
    { name: "oid", type: "uint256" },
    { name: "client_id", type: "string" },
    { name: "price", type: "string" },
    { name: "qty", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  Lend: [
    { name: "account", type: "address" },
    { name: "asset", type: "string" },
    { name: "enabled", type: "bool" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  Withdraw: [
    { name: "account", type: "address" },
    { name: "asset", type: "string" },
    { name: "amount", type: "string" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  ProofRequest: [
    { name: "account", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  CancelBatch: [
    { name: "account", type: "address" },
    { name: "cancels", type: "BatchCancel[]" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
  BatchCancel: [
    { name: "oid", type: "uint256" },
    { name: "client_id", type: "string" },
  ],
  ReadSession: [
    { name: "account", type: "address" },
    { name: "nonce", type: "uint256" },
    { name: "expiry", type: "uint256" },
  ],
};

const UINTS = new Set(["nonce", "expiry", "oid"]);

// uint256 fields as BigInt for viem, in nested lists too (a batch's items)
function uints(value) {
  if (Array.isArray(value)) return value.map(uints);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) out[k] = UINTS.has(k) ? BigInt(v) : uints(v);
  return out;
}

export class Wallet {
  constructor(domain, chain) {
    this.domain = domain; // {name, version, chainId, verifyingContract}
    this.chain = chain; // /terminal/config chain or null
    this.kind = null; // "browser" | "burner"
    this.address = null;
    this.account = null; // viem local account (burner)
    this.client = null; // viem wallet client (browser wallet)
    this._nonce = 0;
  }

  static hasBrowserWallet() {
    return typeof window !== "undefined" && !!window.ethereum;
  }

  static savedBurner() {
    return localStorage.getItem(BURNER_KEY);
  }

  async connectBrowser() {
    const [address] = await window.ethereum.request({ method: "eth_requestAccounts" });
    // EIP-712 signatures name the exchange's chain: a wallet on another chain refuses to sign
    const want = "0x" + Number(this.domain.chainId).toString(16);
    const have = await window.ethereum.request({ method: "eth_chainId" });
    if (have !== want) {
      try {
        await window.ethereum.request({ method: "wallet_switchEthereumChain", params: [{ chainId: want }] });
      } catch (err) {
        if (this.chain && err && err.code === 4902) {
          await window.ethereum.request({
            method: "wallet_addEthereumChain",
            params: [{ chainId: want, chainName: "Breakwater devnet", rpcUrls: [this.chain.rpc_url], nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 } }],
          });
        } else throw new Error(`switch the wallet to chain ${this.domain.chainId} (it is on ${parseInt(have, 16)})`);
      }
    }
    this.client = createWalletClient({ transport: custom(window.ethereum) });
    this.kind = "browser";
    this.address = getAddress(address);
    return this.address;
  }

  useBurner() {
    let key = localStorage.getItem(BURNER_KEY);
    if (!key) {
      key = generatePrivateKey();
      localStorage.setItem(BURNER_KEY, key);
    }
    this.account = privateKeyToAccount(key);
    this.kind = "burner";
    this.address = this.account.address;
    return this.address;
  }

  forgetBurner() {
    localStorage.removeItem(BURNER_KEY);
    this.kind = this.address = this.account = null;
  }

  nonce() {
    // unique per account across reloads, and below 2^53 so JSON carries it exactly
    this._nonce = (this._nonce + 1) % 1000;
    return Date.now() * 1000 + this._nonce;
  }

  async sign(primaryType, message) {
    const typed = uints(message);
    const types = { [primaryType]: TYPES[primaryType] };
    for (const f of TYPES[primaryType]) {
      const inner = f.type.replace(/\[\]$/, "");
      if (TYPES[inner]) types[inner] = TYPES[inner];
    }
    const args = { domain: this.domain, types, primaryType, message: typed };
    if (this.kind === "burner") return this.account.signTypedData(args);
    return this.client.signTypedData({ account: this.address, ...args });
  }

  // -- the chain: a devnet deposit through Custody --------------------------------------------------
  publicClient() {
    return createPublicClient({ transport: http(this.chain.rpc_url) });
  }

  async rpc(method, params) {
    const r = await fetch(this.chain.rpc_url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
    });
    const doc = await r.json();
    if (doc.error) throw new Error(doc.error.message || JSON.stringify(doc.error));
    return doc.result;
  }

  async sendTx(to, data) {
    if (this.kind === "burner") {
      const pub = this.publicClient();
      const wallet = createWalletClient({ account: this.account, transport: http(this.chain.rpc_url) });
      const hash = await wallet.sendTransaction({
        account: this.account,
        to,
        data,
        chain: { id: this.chain.chain_id, name: "devnet", nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 }, rpcUrls: { default: { http: [this.chain.rpc_url] } } },
        gas: 300000n,
      });
      const receipt = await pub.waitForTransactionReceipt({ hash, pollingInterval: 250, timeout: 60000 });
      if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
      return hash;
    }
    const hash = await window.ethereum.request({ method: "eth_sendTransaction", params: [{ from: this.address, to, data }] });
    const receipt = await this.publicClient().waitForTransactionReceipt({ hash, pollingInterval: 500, timeout: 120000 });
    if (receipt.status !== "success") throw new Error(`transaction ${hash} reverted`);
    return hash;
  }

  // faucet -> approve -> Custody.deposit for each token; `step(label, state)` reports progress
  async fund(amounts, step) {
    const erc20 = parseAbi([
      "function mint(address to, uint256 amount)",
      "function approve(address spender, uint256 amount) returns (bool)",
    ]);
    const custodyAbi = parseAbi(["function deposit(address token, uint256 amount) returns (uint256)"]);
    if (this.chain.devnet) {
      step("gas: 10 ETH from the devnet", "run");
      await this.rpc("anvil_setBalance", [this.address, "0x8ac7230489e80000"]);
      step("gas: 10 ETH from the devnet", "done");
    }
    for (const [symbol, whole] of Object.entries(amounts)) {
      const token = this.chain.tokens[symbol];
      if (!token) continue;
      const atoms = BigInt(whole) * 10n ** BigInt(token.decimals);
      for (const [label, to, data] of [
        [`faucet: mint ${whole} ${symbol}`, token.address, encodeFunctionData({ abi: erc20, functionName: "mint", args: [this.address, atoms] })],
        [`approve Custody for ${whole} ${symbol}`, token.address, encodeFunctionData({ abi: erc20, functionName: "approve", args: [this.chain.custody, atoms] })],
        [`Custody.deposit ${whole} ${symbol}`, this.chain.custody, encodeFunctionData({ abi: custodyAbi, functionName: "deposit", args: [token.address, atoms] })],
      ]) {
        step(label, "run");
        const hash = await this.sendTx(to, data);
        step(label, "done", hash);
      }
    }
  }

  // The proof of reserves, checked: the leaf is H(address ‖ salt), and the registry agrees.
  async verifyProof(proof) {
    const out = [];
    const mine = keccak256(concat([pad(this.address, { size: 32 }), proof.salt]));
    if (mine.toLowerCase() !== proof.commitment.toLowerCase()) throw new Error("the leaf is not H(your address ‖ salt)");
    out.push("the leaf commits to your address and salt");
    if (!this.chain || !this.chain.registry) throw new Error("no chain configured: cannot ask ReserveRegistry");
    const abi = parseAbi([
      "function verify_inclusion(uint256 epoch, bytes32 account_commitment, uint256[] equity, uint256[] debt, uint256 index, bytes32[] sibling_hashes, uint256[] sibling_equity, uint256[] sibling_debt) view returns (bool)",
    ]);
    const ok = await this.publicClient().readContract({
      address: this.chain.registry,
      abi,
      functionName: "verify_inclusion",
      args: [
        BigInt(proof.epoch),
        proof.commitment,
        proof.equity.map(BigInt),
        proof.debt.map(BigInt),
        BigInt(proof.index),
        proof.siblings.map((s) => s.hash),
        proof.siblings.flatMap((s) => s.equity.map(BigInt)),
        proof.siblings.flatMap((s) => s.debt.map(BigInt)),
      ],
    });
    if (!ok) throw new Error(`ReserveRegistry.verify_inclusion returned false for epoch ${proof.epoch}`);
    out.push(`ReserveRegistry.verify_inclusion(epoch ${proof.epoch}) = true`);
    return out;
  }
}
