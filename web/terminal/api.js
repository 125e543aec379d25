// The API as the terminal uses it: JSON over fetch, errors as {code, message}, and the refusal
// reasons in words.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = "GET", body, token, params } = {}) {
  let url = path;
  if (params) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
    url += "?" + q.toString();
  }
  const headers = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers["Authorization"] = "Bearer " + token;
  const r = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  let doc = null;
  try {
    doc = await r.json();
  } catch (_) {
    doc = null;
  }
  if (!r.ok) {
    throw new ApiError(r.status, (doc && doc.code) || "http_" + r.status, (doc && doc.message) || r.statusText);
  }
  return doc;
}

// What each refusal means for the person who placed the order.
const REASONS = {
  bad_tick: "The price is not on the market's tick grid: round it to a multiple of the tick.",
  bad_lot: "The quantity is not a multiple of the market's lot size.",
  bad_qty: "The quantity is not valid for this market (zero, or below the minimum).",
  bad_price: "The price is not valid (zero or negative, or given for a market order).",
  price_out_of_band: "The price is too far from the reference price: the market's price band refuses it.",
  insufficient_balance: "Your free balance does not cover this order (balances held by open orders do not count).",
  insufficient_margin: "Your margin does not cover this: the position or borrow would exceed what your collateral allows.",
  insufficient_liquidity: "The lending pool cannot lend that much right now.",
  negative_equity: "Your account's equity is negative: only orders that reduce risk are accepted.",
  not_continuous: "The market is not trading continuously (halted, in cool-down or in its auction): only resting limit orders are taken now, no taker orders.",
  post_only_would_cross: "A post-only order would have taken liquidity, so it was refused instead of matching.",
  fok_unfillable: "Fill-or-kill: the book could not fill the whole quantity at once, so nothing was done.",
  no_liquidity: "There is nothing on the other side of the book to trade against.",
  reduce_only_would_increase: "Reduce-only: this order would open or increase a position.",
  reduce_only_spot: "Reduce-only applies to perpetual positions, not to spot markets.",
  withdrawals_paused: "Withdrawals are paused by the on-chain circuit breaker; try again when it reopens.",
  unknown_market: "There is no such market.",
  unknown_order: "That order is no longer open (filled, cancelled, or never existed).",
  unknown_account: "This account has no balance on the exchange yet: deposit first.",
  unknown_asset: "There is no such asset.",
  bad_amount: "The amount is zero or finer than the asset's smallest unit.",
  duplicate_client_id: "An open order already uses this client id.",
  bad_signature: "The signature does not match the account (wrong key, chain or exchange).",
  expired: "The signed request expired before it arrived: sign it again.",
  expiry_too_far: "The request's expiry is too far in the future.",
  nonce_reused: "This signed request was already used (a replay): sign a new one.",
  not_owner: "That belongs to another account.",
  rate_limited: "Too many requests: wait a moment.",
  bad_request: "The request is malformed.",
  unauthenticated: "Private data needs a signed read session.",
  no_proof: "No attested proof-of-reserves epoch includes this account yet.",
};

export function reason(err) {
  const words = REASONS[err.code] || "Refused.";
  return `${words} (${err.code}: ${err.message})`;
}

// Decimal strings: checks against the tick and lot without floats.
export function decimalsOf(s) {
  const i = String(s).indexOf(".");
  return i < 0 ? 0 : String(s).length - i - 1;
}

export function toUnits(s, decimals) {
  const m = /^([0-9]+)(?:\.([0-9]*))?$/.exec(String(s).trim());
  if (!m) return null;
  const frac = (m[2] || "").padEnd(decimals, "0");
  if (frac.length > decimals && /[1-9]/.test(frac.slice(decimals))) return null;
  return BigInt(m[1] + frac.slice(0, decimals));
}

export function isMultiple(value, step) {
  const d = Math.max(decimalsOf(value), decimalsOf(step));
  const v = toUnits(value, d);
  const s = toUnits(step, d);
  return v !== null && s !== null && s > 0n && v % s === 0n;
}
