// The Breakwater trading terminal: market data over REST and /ws, a wallet that signs EIP-712 in
// the page, order entry, the account's orders, fills, balances, positions, withdrawals and proof.
import { api, ApiError, reason, isMultiple, toUnits, decimalsOf } from "./api.js";
import { Wallet } from "./wallet.js";
import { PriceChart, drawDepth } from "./chart.js";

const $ = (id) => document.getElementById(id);
const INTERVALS = ["1s", "5s", "15s", "1m", "5m", "15m", "1h"];
const FUND_AMOUNTS = { USDC: "10000", USDE: "10000" };
const STOPPED = { halted: "halted", cooldown: "cool-down", auction: "auction" };

const S = {
  cfg: null,
  markets: {},
  symbol: null,
  interval: localStorage.getItem("breakwater.interval") || "5s",
  offset: 0, // server clock - browser clock (ms)
  book: { bids: new Map(), asks: new Map(), seq: -1, state: null },
  indicative: null,
  wallet: null,
  token: null,
  tokenExpiry: 0,
  account: null,
  fills: [],
  ws: null,
  proof: null,
};
window.terminal = S; // for the curious and for the tests

const now = () => Date.now() + S.offset;
const nowS = () => Math.floor(now() / 1000);
const esc = (s) => String(s ?? "–").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const time = (ms) => new Date(ms).toISOString().slice(11, 19);

const timers = {};
function later(name, fn, ms) {
  clearTimeout(timers[name]);
  timers[name] = setTimeout(() => Promise.resolve(fn()).catch((e) => console.warn(e)), ms);
}

function setText(id, text) {
  const el = $(id);
  if (el) el.textContent = text ?? "–";
}

// -- start ---------------------------------------------------------------------------------------
async function start() {
  S.cfg = await api("/terminal/config");
  const status = await api("/status");
  S.offset = (status.ts || Date.now()) - Date.now();
  const markets = await api("/markets");
  for (const m of markets) S.markets[m.symbol] = m;
  const sel = $("market");
  sel.innerHTML = markets.map((m) => `<option value="${esc(m.symbol)}">${esc(m.symbol)}</option>`).join("");
  const wanted = decodeURIComponent(location.hash.slice(1));
  S.symbol = S.markets[wanted] ? wanted : markets.length ? markets[0].symbol : null;
  sel.value = S.symbol;
  sel.onchange = () => {
    S.symbol = sel.value;
    location.hash = S.symbol;
    loadMarket();
    connect();
  };
  $("intervals").innerHTML = INTERVALS.map((i) => `<button data-i="${i}" class="${i === S.interval ? "on" : ""}">${i}</button>`).join("");
  $("intervals").onclick = (e) => {
    const i = e.target.dataset.i;
    if (!i) return;
    S.interval = i;
    localStorage.setItem("breakwater.interval", i);
    for (const b of $("intervals").children) b.classList.toggle("on", b.dataset.i === i);
    loadChart();
  };
  S.chart = new PriceChart($("chart"));
  setupWallet();
  setupForms();
  setupTabs();
  applyStatus(status);
  if (S.symbol) await loadMarket();
  connect();
  // periodic refreshes: a failed one (the server restarting) is simply tried again next time
  const quietly = (fn) => () => fn().catch((e) => console.warn(e));
  setInterval(quietly(loadTicker), 5000);
  setInterval(quietly(loadChart), 15000);
  setInterval(quietly(async () => S.wallet && S.wallet.address && loadAccount()), 4000);
  document.body.dataset.ready = "1";
}

// -- market data ---------------------------------------------------------------------------------
async function loadMarket() {
  const m = S.markets[S.symbol];
  S.chart.setPrecision(m.tick);
  $("price-hint").textContent = `tick ${m.tick}: the price must be a multiple of it`;
  $("qty-hint").textContent = `lot ${m.lot} ${m.base}, at least ${m.min_qty}`;
  $("o-price").placeholder = m.last_price || m.index_price || m.tick;
  $("o-qty").placeholder = m.min_qty;
  await Promise.all([loadTicker(), loadChart(), loadBook(), loadTape()]);
}

async function loadTicker() {
  if (!S.symbol) return;
  const [t] = await api("/ticker", { params: { symbol: S.symbol } });
  setText("t-last", t.last);
  const ch = $("t-change");
  ch.textContent = t.change_bps === null ? "no trades" : `${t.change} (${(t.change_bps / 100).toFixed(2)} %)`;
  ch.className = t.change_bps > 0 ? "up" : t.change_bps < 0 ? "down" : "";
  setText("t-high", t.high);
  setText("t-low", t.low);
  setText("t-volume", `${t.volume} ${S.markets[S.symbol].base}`);
  setText("t-index", t.index_price);
  setText("t-mark", t.mark_price);
  setState(t.state);
}

async function loadChart() {
  if (!S.symbol) return;
  const mine = (S.chartRequest = (S.chartRequest || 0) + 1);
  // the window ends at the exchange's own clock (the server's default), the overlays follow it
  const doc = await api("/candles", { params: { symbol: S.symbol, interval: S.interval } });
  const ov = await api("/overlays", { params: { symbol: S.symbol, start: doc.start, end: doc.end } });
  if (mine !== S.chartRequest) return; // a newer request is on its way: draw that one
  S.chart.render(doc, ov, doc.end);
  S.step = doc.interval_ms;
  const chart = $("chart");
  chart.dataset.candles = String(doc.candles.length);
  chart.dataset.periods = ov.periods.map((p) => p.state).join(",");
  const open = ov.periods.find((p) => p.end === null);
  $("chart-note").textContent =
    (doc.candles.length ? `${doc.candles.length} candles of ${S.interval} from the local trades` : "no trades in this window yet") +
    (ov.periods.length ? `; shaded: ${ov.periods.map((p) => `${STOPPED[p.state] || p.state} from ${time(p.start)}${p.end ? " to " + time(p.end) : " (now)"}`).join(", ")}` : "");
  if (open && ["cooldown", "auction"].includes(open.state) && ov.indicative.length) {
    const last = ov.indicative[ov.indicative.length - 1];
    showIndicative({ price: last.price, volume: last.volume, state: open.state });
  }
}

async function loadBook() {
  const b = await api(`/book/${encodeURIComponent(S.symbol)}`, { params: { depth: 50 } });
  S.book = { bids: new Map(b.bids), asks: new Map(b.asks), seq: b.seq, state: b.state };
  renderBook();
}

async function loadTape() {
  const trades = await api("/trades", { params: { symbol: S.symbol, limit: 50 } });
  $("tape").querySelector("tbody").innerHTML = trades.map(tapeRow).join("");
}

function tapeRow(t) {
  return `<tr class="${t.taker_side === "buy" ? "up" : "down"}"><td>${time(t.ts)}</td><td>${esc(t.price)}</td><td>${esc(t.qty)}</td></tr>`;
}

function setState(state) {
  if (!state) return;
  const el = $("state");
  el.textContent = state;
  el.className = "state " + state;
  S.book.state = state;
  const banner = $("banner");
  if (STOPPED[state]) {
    banner.textContent =
      state === "halted"
        ? `${S.symbol} HALTED by the circuit breaker: no matching; resting orders stay, cancels are taken.`
        : state === "cooldown"
          ? `${S.symbol} in COOL-DOWN: orders are collected without matching; the book may cross. The auction uncrosses it at the indicative price.`
          : `${S.symbol} in its CALL AUCTION: one uncross price for every order, then continuous trading again.`;
    banner.className = "banner " + state;
  } else {
    banner.className = "banner hidden";
    hideIndicative();
  }
}

function renderBook() {
  const m = S.markets[S.symbol];
  const sortDesc = (map) => [...map.entries()].filter(([, q]) => q !== "0").sort((a, b) => Number(b[0]) - Number(a[0]));
  const bids = sortDesc(S.book.bids).slice(0, 12);
  const asks = sortDesc(S.book.asks).reverse().slice(0, 12);
  const row = (cls) => ([p, q]) => `<tr class="${cls}"><td>${esc(p)}</td><td>${esc(q)}</td></tr>`;
  $("asks").querySelector("tbody").innerHTML = [...asks].reverse().map(row("ask")).join("");
  $("bids").querySelector("tbody").innerHTML = bids.map(row("bid")).join("");
  const spread = $("spread");
  const state = S.book.state;
  if (!bids.length && !asks.length) spread.textContent = "the book is empty: no bids and no asks";
  else if (!bids.length) spread.textContent = "no bids";
  else if (!asks.length) spread.textContent = "no asks";
  else {
    const bid = bids[0][0];
    const ask = asks[0][0];
    const d = Math.max(decimalsOf(bid), decimalsOf(ask));
    const diff = Number(toUnits(ask, d) - toUnits(bid, d)) / 10 ** d;
    if (diff < 0) {
      spread.textContent =
        STOPPED[state] && state !== "halted"
          ? `crossed by ${(-diff).toFixed(d)}: in ${STOPPED[state]} orders are collected, not matched, until the auction uncrosses them`
          : `crossed by ${(-diff).toFixed(d)}`;
    } else spread.textContent = `spread ${diff.toFixed(d)} (${m ? ((diff / Number(ask)) * 1e4).toFixed(1) : "–"} bps)`;
  }
  $("book-note").textContent = state ? state : "";
  drawDepth($("depth"), bids, asks, S.indicative);
}

function showIndicative(ind) {
  S.indicative = ind;
  const el = $("indicative");
  el.className = "indicative";
  el.textContent = `indicative uncross: ${ind.price} for ${ind.volume} ${S.markets[S.symbol].base} (${STOPPED[ind.state] || ind.state})`;
  renderBook();
}

function hideIndicative() {
  if (!S.indicative) return;
  S.indicative = null;
  $("indicative").className = "indicative hidden";
}

function applyStatus(doc) {
  if (doc.ts) S.offset = doc.ts - Date.now(); // the exchange's clock: expiries and chart windows follow it
  const chain = doc.chain || {};
  if (chain.pool && chain.pool.symbol === S.symbol) setText("t-pool", chain.pool.price);
  const m = doc.markets && doc.markets[S.symbol];
  if (m) {
    setState(m.state);
    setText("t-index", m.index_price);
    setText("t-mark", m.mark_price);
  }
}

// -- the stream ----------------------------------------------------------------------------------
function connect() {
  if (S.ws) {
    S.ws.onclose = null;
    S.ws.close();
  }
  const q = new URLSearchParams({ channels: "book,trades,market,breaker,status" });
  if (S.wallet && S.wallet.address && S.token) {
    q.set("account", S.wallet.address);
    q.set("session", S.token);
  }
  const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/ws?${q}`);
  S.ws = ws;
  ws.onopen = () => ($("conn").className = "dot on");
  ws.onclose = () => {
    $("conn").className = "dot off";
    setTimeout(connect, 2000);
  };
  ws.onmessage = (ev) => {
    const msg = JSON.parse(ev.data);
    try {
      onMessage(msg);
    } catch (e) {
      console.error(e);
    }
  };
}

function onMessage({ channel, type, data }) {
  if (channel === "book" && data.symbol === S.symbol) {
    if (type === "snapshot") {
      S.book.bids = new Map(data.bids);
      S.book.asks = new Map(data.asks);
    } else {
      if (data.seq !== S.book.seq + 1) return void later("book", loadBook, 0);
      for (const [p, q] of data.bids) q === "0" ? S.book.bids.delete(p) : S.book.bids.set(p, q);
      for (const [p, q] of data.asks) q === "0" ? S.book.asks.delete(p) : S.book.asks.set(p, q);
    }
    S.book.seq = data.seq;
    if (data.state) setState(data.state);
    renderBook();
  } else if (channel === "trades" && data.symbol === S.symbol) {
    const body = $("tape").querySelector("tbody");
    body.insertAdjacentHTML("afterbegin", tapeRow(data));
    while (body.children.length > 50) body.lastChild.remove();
    if (S.step && S.chart.count) S.chart.update(data, S.step);
    else later("chart", loadChart, 300);
    later("ticker", loadTicker, 2000);
    setText("t-last", data.price);
  } else if (channel === "market" && data.symbol === S.symbol) {
    if (type === "indicative" && data.price) showIndicative(data);
    if (type === "auction") {
      hideIndicative();
      later("chart", loadChart, 100);
    }
    if (type === "index") setText("t-index", data.index_price);
  } else if (channel === "breaker" && data.symbol === S.symbol) {
    setState(type === "state" ? data.state : data.to_state);
    later("chart", loadChart, 100);
  } else if (channel === "status") {
    applyStatus(data);
  } else if (channel === "error") {
    // the stream refused or dropped the account channel (a read session expired): sign a new one
    if (["expired", "unauthenticated", "bad_signature"].includes(type) && S.wallet && S.wallet.address) {
      S.token = null;
      later("resubscribe", async () => {
        await session();
        connect();
      }, 500);
    }
  } else if (channel.startsWith("account:")) {
    if (type === "trade") addFills([data]);
    clearTimeout(S.accountTimer);
    S.accountTimer = setTimeout(loadAccount, 150);
  }
}

// -- the wallet ----------------------------------------------------------------------------------
function setupWallet() {
  const { domain, chain } = S.cfg;
  S.wallet = new Wallet(domain, chain);
  if (Wallet.hasBrowserWallet()) $("connect").classList.remove("hidden");
  $("connect").onclick = async () => {
    try {
      await S.wallet.connectBrowser();
      await walletReady();
    } catch (e) {
      $("chain-note").textContent = "the wallet refused: " + e.message;
    }
  };
  $("burner").onclick = async () => {
    S.wallet.useBurner();
    await walletReady();
  };
  $("forget").onclick = () => {
    if (!confirm("Forget this burner key? Whatever it holds on the devnet is lost.")) return;
    S.wallet.forgetBurner();
    S.token = null;
    $("wallet-on").classList.add("hidden");
    $("wallet-none").classList.remove("hidden");
    connect();
  };
  $("fund").onclick = fund;
  if (Wallet.savedBurner() && !Wallet.hasBrowserWallet()) {
    S.wallet.useBurner();
    walletReady();
  }
}

async function walletReady() {
  const w = S.wallet;
  $("wallet-none").classList.add("hidden");
  $("wallet-on").classList.remove("hidden");
  $("wallet-kind").textContent = w.kind === "burner" ? "devnet burner" : "browser wallet";
  $("wallet-kind").className = "tag " + w.kind;
  $("address").textContent = w.address;
  $("burner-warning").classList.toggle("hidden", w.kind !== "burner");
  $("forget").classList.toggle("hidden", w.kind !== "burner");
  const chain = S.cfg.chain;
  $("fund").classList.toggle("hidden", !(chain && chain.devnet));
  $("chain-note").textContent = chain
    ? `chain ${chain.chain_id} at ${chain.rpc_url}; Custody ${chain.custody}`
    : "no chain configured for this API: deposits are made elsewhere (the funding button needs a devnet)";
  S.fills = JSON.parse(localStorage.getItem("breakwater.fills." + w.address) || "[]");
  renderFills();
  await session();
  connect();
  await loadAccount();
}

async function session() {
  if (S.token && S.tokenExpiry - nowS() > 120) return S.token;
  const w = S.wallet;
  const msg = { account: w.address, nonce: w.nonce(), expiry: nowS() + 3600 };
  const sig = await w.sign("ReadSession", msg);
  S.token = `${w.address}.${msg.nonce}.${msg.expiry}.${sig}`;
  S.tokenExpiry = msg.expiry;
  return S.token;
}

async function fund() {
  const list = $("fund-progress");
  list.innerHTML = "";
  const items = {};
  const step = (label, state, tx) => {
    let li = items[label];
    if (!li) {
      li = items[label] = document.createElement("li");
      list.appendChild(li);
    }
    li.className = state;
    li.textContent = label + (state === "run" ? " …" : state === "done" ? " ✓" : "") + (tx ? ` (tx ${tx.slice(0, 10)}…)` : "");
  };
  $("fund").disabled = true;
  try {
    await S.wallet.fund(FUND_AMOUNTS, step);
    step("the exchange credits the deposits (after the daemon's confirmations)", "run");
    for (let i = 0; i < 120; i++) {
      await loadAccount();
      const bal = S.account && S.account.balances;
      if (bal && Object.keys(FUND_AMOUNTS).every((a) => !S.cfg.chain.tokens[a] || (bal[a] && Number(bal[a].balance) > 0))) break;
      await new Promise((r) => setTimeout(r, 1000));
    }
    step("the exchange credits the deposits (after the daemon's confirmations)", "done");
  } catch (e) {
    const li = document.createElement("li");
    li.className = "fail";
    li.textContent = "failed: " + e.message;
    list.appendChild(li);
  } finally {
    $("fund").disabled = false;
  }
}

// -- the account ---------------------------------------------------------------------------------
async function loadAccount() {
  const w = S.wallet;
  if (!w || !w.address) return;
  try {
    const token = await session();
    const [acct, wds] = await Promise.all([
      api(`/accounts/${w.address}`, { token }),
      api("/withdrawals", { params: { account: w.address, limit: 20 }, token }),
    ]);
    S.account = acct;
    renderAccount(acct);
    renderWithdrawals(wds);
  } catch (e) {
    if (e instanceof ApiError && ["expired", "bad_signature"].includes(e.code)) S.token = null;
    console.warn("account read failed", e);
  }
}

function renderAccount(a) {
  const orders = a.open_orders || [];
  if (S.editing && orders.some((o) => o.oid === S.editing)) return renderBalances(a); // keep the inputs
  $("n-orders").textContent = orders.length ? `(${orders.length})` : "";
  $("orders").querySelector("tbody").innerHTML = orders.length
    ? orders
        .map(
          (o) =>
            `<tr data-oid="${o.oid}"><td>${o.oid}</td><td>${esc(o.symbol)}</td><td class="${o.side === "buy" ? "up" : "down"}">${o.side}</td><td>${esc(o.price)}</td><td>${esc(o.qty)}</td><td>${esc(o.filled)}</td><td>${esc(o.tif)}</td><td>${[o.post_only && "post-only", o.reduce_only && "reduce-only"].filter(Boolean).join(" ")}</td><td><button class="small amend" data-amend="${o.oid}">amend</button> <button class="small cancel" data-oid="${o.oid}">cancel</button></td></tr>`,
        )
        .join("")
    : `<tr class="empty"><td colspan="9">no open orders</td></tr>`;
  renderBalances(a);
}

// balances, lending and borrows, margin, positions
function renderBalances(a) {
  const rows = Object.entries(a.balances || {}).map(([asset, b]) => {
    const lend = a.lending && a.lending[asset];
    const borrow = a.borrows && a.borrows[asset];
    const apr = (x) => (x && x.apr_ppm !== undefined ? ` (${(x.apr_ppm / 1e4).toFixed(2)} %)` : "");
    const choice = a.lend && asset in a.lend
      ? `<input type="checkbox" class="lend" data-asset="${esc(asset)}" ${a.lend[asset] ? "checked" : ""} title="lend this asset's free balance to borrowers">`
      : "–";
    return `<tr data-asset="${esc(asset)}"><td>${esc(asset)}</td><td>${esc(b.balance)}</td><td>${esc(b.held)}</td><td class="free">${esc(b.free)}</td><td class="lending">${lend ? esc(lend.supplied) + apr(lend) : "–"}</td><td>${borrow ? esc(borrow.borrowed) + apr(borrow) : "–"}</td><td>${choice}</td></tr>`;
  });
  $("balances").querySelector("tbody").innerHTML = rows.join("") || `<tr class="empty"><td colspan="7">no balances: fund the wallet or deposit</td></tr>`;
  const assets = Object.keys(a.balances || {});
  const sel = $("w-asset");
  if (sel.options.length !== assets.length) sel.innerHTML = assets.map((x) => `<option>${esc(x)}</option>`).join("");
  const m = a.margin;
  $("margin").textContent = m
    ? `margin (${m.asset}): equity ${m.equity}, collateral ${m.collateral}, borrows ${m.borrows}, initial ${m.initial}, maintenance ${m.maintenance}, free ${m.free}${m.below_maintenance ? " — BELOW MAINTENANCE" : ""}`
    : "";
  const pos = Object.entries(a.positions || {});
  $("positions").querySelector("tbody").innerHTML = pos.length
    ? pos
        .map(
          ([s, p]) =>
            `<tr data-symbol="${esc(s)}"><td>${esc(s)}</td><td>${esc(p.qty)}</td><td>${esc(p.entry)}</td><td class="mark">${esc(p.mark)}</td><td class="upnl ${Number(p.upnl) >= 0 ? "up" : "down"}">${esc(p.upnl)}</td><td class="liq">${esc(p.liquidation_price)}</td><td>${esc(p.notional)}</td></tr>`,
        )
        .join("")
    : `<tr class="empty"><td colspan="7">no perp positions</td></tr>`;
  if (m && Number(m.equity) > 0) {
    const ratio = (Number(m.maintenance) / Number(m.equity)) * 100;
    $("margin-ratio").textContent = `margin ratio (maintenance / equity): ${ratio.toFixed(2)} % — liquidation starts at 100 %`;
  } else $("margin-ratio").textContent = m ? "margin ratio: no equity" : "";
}

function renderWithdrawals(list) {
  $("withdrawals").querySelector("tbody").innerHTML = list.length
    ? list
        .map(
          (w) =>
            `<tr data-wid="${w.wid}" class="${w.status}"><td>${w.wid}</td><td>${esc(w.asset)}</td><td>${esc(w.amount)}</td><td class="status">${esc(w.status)}</td><td>${w.requested_ts ? time(w.requested_ts) : "–"}</td><td>${w.paid_ts ? time(w.paid_ts) : w.refunded_ts ? time(w.refunded_ts) : "–"}</td><td>${w.tx ? `<code>${esc(w.tx)}</code>` : esc(w.reason || "")}</td></tr>`,
        )
        .join("")
    : `<tr class="empty"><td colspan="7">no withdrawals</td></tr>`;
}

function addFills(trades) {
  for (const t of trades) {
    if (!t.role) continue;
    const key = `${t.tid}:${t.role}`;
    if (S.fills.some((f) => `${f.tid}:${f.role}` === key)) continue;
    S.fills.unshift(t);
  }
  S.fills = S.fills.slice(0, 200);
  localStorage.setItem("breakwater.fills." + S.wallet.address, JSON.stringify(S.fills));
  renderFills();
}

function renderFills() {
  $("fills").querySelector("tbody").innerHTML = S.fills.length
    ? S.fills
        .map((f) => {
          const side = f.role === "taker" ? f.taker_side : f.taker_side === "buy" ? "sell" : "buy";
          return `<tr><td>${time(f.ts)}</td><td>${esc(f.symbol)}</td><td class="${side === "buy" ? "up" : "down"}">${side}</td><td>${f.role}</td><td>${esc(f.price)}</td><td>${esc(f.qty)}</td><td>${esc(f.fee)}</td><td>${f.oid}</td></tr>`;
        })
        .join("")
    : `<tr class="empty"><td colspan="8">no fills yet</td></tr>`;
}

// -- order entry, cancels, withdrawals, proof ----------------------------------------------------
function needWallet(out) {
  if (S.wallet && S.wallet.address) return true;
  out.textContent = "Connect a wallet or use a devnet burner key first.";
  out.className = "result refused";
  return false;
}

function setupForms() {
  const kind = $("o-kind");
  kind.onchange = () => {
    $("o-price").disabled = kind.value === "market";
    $("o-post").disabled = kind.value !== "limit";
  };
  $("order-form").onsubmit = async (e) => {
    e.preventDefault();
    const out = $("order-result");
    if (!needWallet(out)) return;
    const f = new FormData(e.target);
    const m = S.markets[S.symbol];
    const k = f.get("kind");
    const price = k === "market" ? "" : String(f.get("price") || "").trim();
    const qty = String(f.get("qty") || "").trim();
    const local = [];
    if (k !== "market" && !/^[0-9]+(\.[0-9]+)?$/.test(price)) local.push("Enter a price, in " + m.quote + " per " + m.base + ".");
    else if (k !== "market" && !isMultiple(price, m.tick)) local.push(`The price ${price} is off the tick: it must be a multiple of ${m.tick}.`);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(qty)) local.push("Enter a quantity, in " + m.base + ".");
    else if (!isMultiple(qty, m.lot)) local.push(`The quantity ${qty} is not a multiple of the lot ${m.lot} ${m.base}.`);
    if (local.length) {
      out.textContent = "Not sent: " + local.join(" ");
      out.className = "result refused";
      return;
    }
    const order = {
      account: S.wallet.address,
      symbol: S.symbol,
      side: f.get("side"),
      type: k === "market" ? "market" : "limit",
      price,
      qty,
      tif: k === "ioc" || k === "market" ? "IOC" : k === "fok" ? "FOK" : "GTC",
      client_id: "t" + Date.now().toString(36) + Math.floor(Math.random() * 1e6).toString(36),
      post_only: k === "limit" && f.get("post_only") === "on",
      reduce_only: f.get("reduce_only") === "on",
      stp: f.get("stp"),
      nonce: S.wallet.nonce(),
      expiry: nowS() + 300,
    };
    out.textContent = "signing…";
    out.className = "result";
    try {
      const signature = await S.wallet.sign("Order", order);
      const r = await api("/orders", { method: "POST", body: { order, signature } });
      addFills((r.events || []).filter((x) => x.event === "trade"));
      const filled = (r.events || []).filter((x) => x.event === "trade").reduce((s, x) => s + Number(x.qty), 0);
      out.textContent = `Order ${r.oid} ${r.status}` + (filled ? `: filled ${filled} ${m.base}` : "");
      out.className = "result ok";
      loadAccount();
    } catch (err) {
      out.textContent = err instanceof ApiError ? "Refused: " + reason(err) : "Failed: " + err.message;
      out.className = "result refused";
    }
  };
  $("orders").onclick = async (e) => {
    const d = e.target.dataset || {};
    if (d.oid) await cancel(Number(d.oid));
    else if (d.amend) editOrder(e.target.closest("tr"), Number(d.amend));
    else if (d.save) await amend(e.target.closest("tr"), Number(d.save));
  };
  $("cancel-all").onclick = cancelAll;
  $("balances").onchange = async (e) => {
    if (!e.target.classList.contains("lend")) return;
    const out = $("lend-result");
    const msg = { account: S.wallet.address, asset: e.target.dataset.asset, enabled: e.target.checked, nonce: S.wallet.nonce(), expiry: nowS() + 300 };
    try {
      const signature = await S.wallet.sign("Lend", msg);
      await api(`/accounts/${S.wallet.address}/lending`, { method: "POST", body: { lend: msg, signature } });
      out.textContent = `Auto-lend of ${msg.asset} ${msg.enabled ? "on: its free balance earns the supply rate" : "off: nothing of it is lent"}`;
      out.className = "result ok";
    } catch (err) {
      out.textContent = err instanceof ApiError ? "Auto-lend refused: " + reason(err) : "Failed: " + err.message;
      out.className = "result refused";
    }
    await loadAccount();
  };
  $("withdraw-form").onsubmit = async (e) => {
    e.preventDefault();
    const out = $("withdraw-result");
    if (!needWallet(out)) return;
    const msg = {
      account: S.wallet.address,
      asset: $("w-asset").value,
      amount: $("w-amount").value.trim(),
      nonce: S.wallet.nonce(),
      expiry: nowS() + 300,
    };
    try {
      const signature = await S.wallet.sign("Withdraw", msg);
      const r = await api("/withdrawals", { method: "POST", body: { withdraw: msg, signature } });
      out.textContent = `Withdrawal ${r.withdrawal.wid} requested: ${r.withdrawal.amount} ${r.withdrawal.asset} to your own address`;
      out.className = "result ok";
      loadAccount();
    } catch (err) {
      out.textContent = err instanceof ApiError ? "Refused: " + reason(err) : "Failed: " + err.message;
      out.className = "result refused";
    }
  };
  $("proof-get").onclick = getProof;
  $("proof-verify").onclick = verifyProof;
}

// amend in place: the row's price and quantity become inputs until signed (or the next refresh)
function editOrder(row, oid) {
  S.editing = oid;
  const [, , , priceCell, qtyCell, , , , actions] = row.children;
  priceCell.innerHTML = `<input class="amend-price" size="8" value="${esc(priceCell.textContent)}">`;
  qtyCell.innerHTML = `<input class="amend-qty" size="8" value="${esc(qtyCell.textContent)}">`;
  actions.innerHTML = `<button class="small save" data-save="${oid}">sign amend</button>`;
}

async function amend(row, oid) {
  const out = $("order-result");
  const order = ((S.account && S.account.open_orders) || []).find((o) => o.oid === oid);
  const price = row.querySelector(".amend-price").value.trim();
  const qty = row.querySelector(".amend-qty").value.trim();
  const msg = {
    account: S.wallet.address,
    oid,
    client_id: "",
    price: order && Number(price) === Number(order.price) ? "" : price,
    qty: order && Number(qty) === Number(order.qty) ? "" : qty,
    nonce: S.wallet.nonce(),
    expiry: nowS() + 300,
  };
  try {
    const signature = await S.wallet.sign("Amend", msg);
    const r = await api(`/orders/${oid}`, { method: "PATCH", body: { amend: msg, signature } });
    out.textContent = `Order ${oid} amended to ${r.qty} at ${r.price}` + (r.kept_priority ? " (kept its place in the queue)" : " (back of the queue at its price)");
    out.className = "result ok";
  } catch (err) {
    out.textContent = err instanceof ApiError ? "Amend refused: " + reason(err) : "Failed: " + err.message;
    out.className = "result refused";
  }
  S.editing = null;
  await loadAccount();
}

async function cancel(oid) {
  const out = $("order-result");
  const msg = { account: S.wallet.address, oid, client_id: "", nonce: S.wallet.nonce(), expiry: nowS() + 300 };
  try {
    const signature = await S.wallet.sign("Cancel", msg);
    const r = await api(`/orders/${oid}`, { method: "DELETE", body: { cancel: msg, signature } });
    out.textContent = `Order ${oid} cancelled (${r.cancelled_qty} left the book)`;
    out.className = "result ok";
  } catch (err) {
    out.textContent = err instanceof ApiError ? "Cancel refused: " + reason(err) : "Failed: " + err.message;
    out.className = "result refused";
  }
  await loadAccount();
}

// every open order under one signature (CancelBatch, 100 a batch); one by one if the API has no batches
async function cancelAll() {
  const out = $("order-result");
  const open = (S.account && S.account.open_orders) || [];
  if (!open.length) return;
  let done = 0;
  const refused = [];
  try {
    for (let i = 0; i < open.length; i += 100) {
      const cancels = open.slice(i, i + 100).map((o) => ({ oid: o.oid, client_id: "" }));
      const batch = { account: S.wallet.address, cancels, nonce: S.wallet.nonce(), expiry: nowS() + 300 };
      const signature = await S.wallet.sign("CancelBatch", batch);
      const r = await api("/orders/cancel-batch", { method: "POST", body: { batch, signature } });
      for (const x of r.results) x.ok ? (done += 1) : refused.push(`${x.oid || x.client_id}: ${reason(x)}`);
    }
    out.textContent = `Cancelled ${done} order${done === 1 ? "" : "s"} under one signature` + (refused.length ? `; refused ${refused.join("; ")}` : "");
    out.className = refused.length ? "result refused" : "result ok";
  } catch (err) {
    if (err instanceof ApiError && [404, 405].includes(err.status)) {
      for (const o of open) await cancel(o.oid);
    } else {
      out.textContent = err instanceof ApiError ? "Cancel all refused: " + reason(err) : "Failed: " + err.message;
      out.className = "result refused";
    }
  }
  await loadAccount();
}

async function getProof() {
  const out = $("proof-out");
  if (!needWallet(out)) return;
  const w = S.wallet;
  const msg = { account: w.address, nonce: w.nonce(), expiry: nowS() + 300 };
  try {
    const signature = await w.sign("ProofRequest", msg);
    const r = await api(`/por/proof/${w.address}`, { params: { ...msg, signature } });
    S.proof = r.proof;
    const p = r.proof;
    out.innerHTML =
      `<p>epoch <b>${esc(p.epoch)}</b>, leaf ${esc(p.index)} of ${esc(p.leaf_count)}</p>` +
      `<table><thead><tr><th>asset</th><th>equity</th><th>debt</th></tr></thead><tbody>` +
      p.assets.map((a, i) => `<tr><td>${esc(assetName(a))}</td><td>${esc(whole(a, p.equity[i]))}</td><td>${esc(whole(a, p.debt[i]))}</td></tr>`).join("") +
      `</tbody></table><p class="muted small">commitment ${esc(p.commitment)}<br>root ${esc(p.root.hash)}</p>`;
    $("proof-verify").classList.remove("hidden");
  } catch (err) {
    out.textContent = err instanceof ApiError ? reason(err) : err.message;
  }
}

// a proof names assets by token address and amounts in atoms: the chain config maps them back
function tokenOf(address) {
  const tokens = (S.cfg.chain && S.cfg.chain.tokens) || {};
  const hit = Object.entries(tokens).find(([, t]) => t.address.toLowerCase() === String(address).toLowerCase());
  return hit ? { symbol: hit[0], decimals: hit[1].decimals } : null;
}

function assetName(a) {
  const t = tokenOf(a);
  return t ? `${t.symbol} (${a})` : a;
}

function whole(a, atoms) {
  const t = tokenOf(a);
  if (!t) return `${atoms} atoms`;
  const s = String(atoms).padStart(t.decimals + 1, "0");
  const int = s.slice(0, s.length - t.decimals);
  const frac = s.slice(s.length - t.decimals).replace(/0+$/, "");
  return frac ? `${int}.${frac}` : int;
}

async function verifyProof() {
  const out = $("proof-out");
  const p = document.createElement("p");
  try {
    const lines = await S.wallet.verifyProof(S.proof);
    p.className = "ok";
    p.textContent = "VERIFIED: " + lines.join("; ");
  } catch (err) {
    p.className = "refused";
    p.textContent = "NOT VERIFIED: " + err.message;
  }
  out.appendChild(p);
}

function setupTabs() {
  const tabs = document.querySelector(".tabs");
  tabs.onclick = (e) => {
    const b = e.target.closest("button");
    if (!b) return;
    for (const x of tabs.children) x.classList.toggle("on", x === b);
    for (const t of document.querySelectorAll(".tab")) t.classList.toggle("hidden", t.id !== "tab-" + b.dataset.tab);
  };
}

start().catch((e) => {
  console.error(e);
  const banner = $("banner");
  banner.textContent = "The terminal could not start: " + e.message;
  banner.className = "banner halted";
});
