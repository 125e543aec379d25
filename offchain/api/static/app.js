// Breakwater dashboard: vanilla JS, no build step. State comes from /status, /trades and the
// WebSocket (/ws): book snapshots and deltas, trades, breaker transitions, status every second.
// Amounts arrive as decimal strings; they are shown as they are and turned into numbers only to
// size the depth bars.
"use strict";

const BOOK_ROWS = 12;
const METRIC_LABELS = {
  cvd: ["CVD", "|local price − index| / index"],
  rl: ["R\u2097", "depth within ±1 % / 30-day median"],
  si: ["S\u1d62", "slippage of the reference market order"],
  vp: ["V\u209a", "price change over 5 minutes"],
  lce: ["LCE", "liquidations within reach / open interest"],
};

// early-warning gauges: [gauge, threshold key, alerts when the value is "above" or "below" it]
const WARNING_GAUGES = [
  ["withdrawal_rate_bps", "withdrawal_rate_bps", "above"],
  ["bank_run_bps", "bank_run_bps", "above"],
  ["hot_coverage_bps", "hot_coverage_min_bps", "below"],
];
const NO_HOT_BPS = 1e9; // the early warning's ratio when there are no hot reserves at all
// ReserveRegistry.check_solvency halts Custody when a net ratio is below FULL_RESERVE_BPS (10000);
// the watcher may report the registry's own figure as attestation.halt_below_bps.
const FULL_RESERVE_BPS = 10000;
const STOPPED = { halted: "the halt", cooldown: "cool-down", auction: "the call auction" };

const state = {
  status: null,
  selected: null,
  books: {},      // symbol -> {bids: Map(price -> qty), asks: Map}
  trades: {},     // symbol -> [trade, ...] newest first
  alerts: [],
  indicative: {}, // symbol -> the engine's latest indicative uncross {price, volume, state}
  connected: false,
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "style") node.style.cssText = v;
    else node.setAttribute(k, v);
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(child ?? ""));
  }
  return node;
}

const pct = (ppm) => (ppm === null || ppm === undefined ? "n/a" : (ppm / 10000).toFixed(2) + " %");
const show = (v) => (v === null || v === undefined || v === "" ? "–" : String(v));
const clock = (ms) => (ms ? new Date(ms).toLocaleTimeString() : "–");
const hhmm = (ms) => new Date(ms).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hour12: false });

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "–";
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)} min`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}

// -- data in ------------------------------------------------------------------------------------
async function fetchJSON(path) {
  const r = await fetch(path, { cache: "no-store" });
  if (!r.ok) throw new Error(`${path}: ${r.status}`);
  return r.json();
}

async function refreshStatus() {
  try {
    applyStatus(await fetchJSON("/status"));
  } catch (e) {
    console.warn(e);
  }
}

async function loadTrades() {
  try {
    const trades = await fetchJSON("/trades?limit=100");
    state.trades = {};
    for (const t of trades.slice().reverse()) addTrade(t);
  } catch (e) {
    console.warn(e);
  }
}

function applyStatus(status) {
  state.status = status;
  const symbols = Object.keys(status.markets);
  if (!state.selected || !status.markets[state.selected]) {
    // prefer a market that is not trading: that is what the operator must see first
    state.selected = symbols.find((s) => status.markets[s].state !== "continuous") || symbols[0] || null;
  }
  render();
}

function applyBook(kind, data) {
  let book = state.books[data.symbol];
  if (kind === "snapshot" || !book) book = state.books[data.symbol] = { bids: new Map(), asks: new Map() };
  for (const side of ["bids", "asks"]) {
    for (const [price, qty] of data[side]) {
      if (qty === "0") book[side].delete(price);
      else book[side].set(price, qty);
    }
  }
  book.mid = data.mid;
  book.last = data.last_price;
  book.state = data.state;
  if (state.status && state.status.markets[data.symbol]) {
    const m = state.status.markets[data.symbol];
    m.mid = data.mid;
    m.crossed = data.crossed;
    m.last_price = data.last_price;
    m.state = data.state;
  }
}

function addTrade(t) {
  const list = (state.trades[t.symbol] = state.trades[t.symbol] || []);
  list.unshift(t);
  if (list.length > 100) list.length = 100;
}

function onMessage(msg) {
  const { channel, type, data } = msg;
  if (channel === "book") applyBook(type, data);
  else if (channel === "trades") addTrade(data);
  else if (channel === "status") return applyStatus(data);
  else if (channel === "breaker") {
    if (state.status && state.status.markets[data.symbol]) {
      const m = state.status.markets[data.symbol];
      m.state = type === "breaker" ? data.to_state : data.state;
      m.breaker.state = m.state;
      m.breaker.reason = data.reason;
    }
    refreshStatus();
  } else if (channel === "chain" && state.status) {
    if (type === "chain_status") Object.assign(state.status.chain, strip(data));
    else if (type === "por_epoch") state.status.por = strip(data);
  } else if (channel === "alerts") {
    state.alerts.unshift(data);
  } else if (channel === "market" && type === "indicative") {
    state.indicative[data.symbol] = data;
  } else if (channel === "market" && type === "index" && state.status) {
    const m = state.status.markets[data.symbol];
    if (m) {
      m.index_price = data.index_price;
      m.index_sources[data.source] = data.price;
    }
  }
  render();
}

function strip(data) {
  const out = { ...data };
  delete out.event;
  delete out.ts;
  return out;
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws?channels=book,trades,breaker,market,status,chain,alerts`);
  ws.onopen = () => {
    state.connected = true;
    loadTrades();
    renderConnection();
  };
  ws.onmessage = (ev) => onMessage(JSON.parse(ev.data));
  ws.onclose = () => {
    state.connected = false;
    renderConnection();
    setTimeout(connect, 2000);
  };
}

// -- rendering ------------------------------------------------------------------------------------
function renderConnection() {
  $("conn").className = "dot " + (state.connected ? "on" : "off");
  $("conn-text").textContent = state.connected ? "live" : "reconnecting…";
}

function render() {
  const s = state.status;
  if (!s) return;
  $("seq").textContent = s.seq;
  $("clock").textContent = clock(s.ts);
  renderMarkets(s);
  renderBanner(s);
  const m = s.markets[state.selected];
  if (m) {
    renderMarket(s, m);
    renderMetrics(m.breaker);
    renderBook(m);
    renderTrades(m.symbol);
  }
  renderReserves(s);
  renderInsurance(s);
  renderAlerts(s);
  renderEarlyWarning(s);
}

function renderMarkets(s) {
  const nav = $("markets");
  nav.replaceChildren(
    ...Object.values(s.markets).map((m) => {
      const b = el("button", { class: m.symbol === state.selected ? "selected" : "", "data-symbol": m.symbol },
        m.symbol, el("span", { class: `state ${m.state}` }, m.state));
      b.onclick = () => {
        state.selected = m.symbol;
        render();
      };
      return b;
    }),
  );
}

function renderBanner(s) {
  const stopped = Object.values(s.markets).filter((m) => m.state !== "continuous");
  const banner = $("banner");
  if (!stopped.length) {
    banner.className = "banner hidden";
    return;
  }
  banner.className = "banner";
  banner.textContent = stopped
    .map((m) => {
      const b = m.breaker || {};
      let text = `${m.symbol} ${m.state.toUpperCase()}`;
      if (b.reason) text += ` (${b.reason})`;
      if (b.since) text += ` since ${clock(b.since)}`;
      if (m.state === "halted") {
        text += b.manual ? ": operator halt, resumes on the operator's command"
          : `: reopens when CVD < 1 %, R_L > 50 % and LCE is safe` + (b.halt_until ? `, not before ${clock(b.halt_until)}` : "");
      } else if (b.next_deadline) {
        text += `, next phase at ${clock(b.next_deadline)}`;
      }
      return text;
    })
    .join(" · ");
}

function poolPrice(s, m) {
  const pool = s.chain && s.chain.pool;
  if (pool && (!pool.symbol || pool.symbol === m.symbol) && pool.price) return pool.price;
  for (const src of ["pool", "onchain", "chain", "curve"]) if (m.index_sources[src]) return m.index_sources[src];
  return null;
}

function renderMarket(s, m) {
  $("m-symbol").textContent = m.symbol;
  const badge = $("m-state");
  badge.textContent = m.state;
  badge.className = `state ${m.state}`;
  const b = m.breaker || {};
  const book = state.books[m.symbol];
  const empty = book ? !book.bids.size && !book.asks.size : !m.best_bid && !m.best_ask;
  $("m-reason").textContent = m.state === "continuous" ? `${m.kind} · ${m.base}/${m.quote}` + (empty ? " · no orders" : "")
    : `${b.reason || "stopped"} · since ${clock(b.since)}` + (b.halt_until ? ` · earliest reopen ${clock(b.halt_until)}` : "");
  $("p-mid").textContent = show(m.mid);
  $("p-last").textContent = show(m.last_price);
  $("p-index").textContent = show(m.index_price);
  $("p-pool").textContent = show(poolPrice(s, m));
  $("p-mark").textContent = show(m.mark_price);
  $("p-frozen").textContent = show(b.frozen_mark);
  const sources = Object.entries(m.index_sources).map(([k, v]) => `${k} ${v}`).join(" · ");
  $("p-sources").textContent = sources ? `index sources: ${sources}` : "no index source yet";
  $("p-dlps").textContent = dlpLine(s.chain && s.chain.dlp, m.symbol);
}

// The designated liquidity providers (GET /status chain.dlp): their quoting obligation on this
// market while it is halted, and the priority credits still waiting for their confirmations.
function dlpLine(dlp, symbol) {
  if (!dlp || !dlp.designations) return "";
  const dlps = Object.values(dlp.designations).filter((d) => d.role === "dlp");
  if (!dlps.length) return "no designated liquidity provider";
  const short = (a) => `${a.slice(0, 6)}…${a.slice(-4)}`;
  const quoting = dlps.filter((d) => d.quoting && d.quoting[symbol])
    .map((d) => `${short(d.account)} ${d.quoting[symbol]}`);
  const pending = Object.values(dlp.pending || {}).filter((p) => p.market === symbol);
  return `DLPs: ${dlps.length} designated` + (quoting.length ? ` · in the halt: ${quoting.join(", ")}` : "") +
    (pending.length ? ` · ${pending.length} priority credit(s) awaiting confirmations` : "");
}

function renderMetrics(b) {
  const body = $("metrics").querySelector("tbody");
  const last = b.last_transition;
  $("last-move").textContent = last
    ? `last move ${last.from_state} → ${last.to_state} (${last.reason}) at ${clock(last.ts)}`
    : "no breaker move since the server started";
  const rows = Object.entries(b.metrics || {}).map(([name, mt]) => {
    const [label, help] = METRIC_LABELS[name] || [name, ""];
    const scale = Math.max(mt.trip_ppm * 2, mt.value_ppm || 0, 1);
    const width = mt.value_ppm === null ? 0 : Math.min(100, (100 * mt.value_ppm) / scale);
    const trip = Math.min(100, (100 * mt.trip_ppm) / scale);
    // a reading that measures nothing (no mid, or S_I's reference order cannot fill the thin book)
    // is shown in words and in a neutral colour, not as a 100 % alarm
    const note = mt.note || (mt.value_ppm === null ? "unmeasurable" : null);
    const cls = note ? "unmeasured" : mt.beyond_trip ? "hot" : "ok";
    const bar = note ? 0 : width;
    const when = mt.trips_when === "above" ? ">" : "<";
    const back = mt.recover_ppm === null ? "–" : `${mt.trips_when === "above" ? "<" : ">"} ${pct(mt.recover_ppm)}`;
    const thinThen = name === "si" && mt.at_transition_ppm >= 1e6; // the reference order did not fill then
    const then = mt.at_transition_ppm === null || mt.at_transition_ppm === undefined ? "–"
      : thinThen ? "book too thin" : pct(mt.at_transition_ppm);
    let value = pct(mt.value_ppm), why = help;
    if (note === "book_too_thin") {
      value = "book too thin to measure";
      why = `the reference market order (${mt.reference_notional || "?"} ${state.status.markets[state.selected]?.quote || ""}) ` +
        "cannot fill against the book, so S\u1d62 reads 100 %; it trips only together with V\u209a and LCE";
    } else if (note === "unmeasurable") {
      value = "not measurable";
      why = `${help}: no reading (no price or no book to measure it on)`;
    }
    return el("tr", { class: cls, "data-metric": name, title: why },
      el("td", {}, label), el("td", { class: "val", title: why }, value),
      el("td", { class: mt.beyond_trip_at_transition && !thinThen ? "then hot" : "then" }, then),
      el("td", {}, `${when} ${pct(mt.trip_ppm)}`),
      el("td", {}, back),
      el("td", {}, el("div", { class: "bar" }, el("span", { style: `width:${bar}%` }), el("i", { style: `left:${trip}%` }))));
  });
  body.replaceChildren(...rows);
}

function renderBook(m) {
  const book = state.books[m.symbol] || { bids: new Map(), asks: new Map() };
  const asks = [...book.asks.entries()].sort((a, b) => Number(a[0]) - Number(b[0])).slice(0, BOOK_ROWS);
  const bids = [...book.bids.entries()].sort((a, b) => Number(b[0]) - Number(a[0])).slice(0, BOOK_ROWS);
  const cum = (levels) => {
    let total = 0;
    return levels.map(([p, q]) => [p, q, (total += Number(q))]);
  };
  const a = cum(asks), bb = cum(bids);
  const max = Math.max(a.length ? a[a.length - 1][2] : 0, bb.length ? bb[bb.length - 1][2] : 0, 1);
  const row = ([p, q, c]) => el("tr", {},
    el("td", { class: "px" }, p),
    el("td", { class: "qty" }, el("div", { class: "depth", style: `width:${(100 * c) / max}%` }), q));
  $("asks").querySelector("tbody").replaceChildren(...a.slice().reverse().map(row));
  $("bids").querySelector("tbody").replaceChildren(...bb.map(row));
  const bestBid = bids.length ? bids[0][0] : null, bestAsk = asks.length ? asks[0][0] : null;
  const spread = $("spread");
  spread.className = "spread";
  if (!bestBid && !bestAsk) spread.textContent = "no orders: the book is empty";
  else if (!bestBid) spread.textContent = "no bids (asks only)";
  else if (!bestAsk) spread.textContent = "no asks (bids only)";
  else if (Number(bestBid) >= Number(bestAsk)) spread.replaceChildren(...crossedText(m, bestBid, bestAsk));
  else {
    const d = (m.tick || "").split(".")[1]?.length ?? 4;
    spread.textContent = `mid ${show(m.mid)} · spread ${(Number(bestAsk) - Number(bestBid)).toFixed(d)}`;
  }
  $("book-note").textContent = m.state !== "continuous" ? "(not matching: orders rest until the auction)" : "";
}

// A crossed book only happens while orders are collected without matching (cool-down, auction,
// halt): say so, and where the call auction will uncross it (the engine's indicative price).
function crossedText(m, bestBid, bestAsk) {
  const d = Math.max(...[m.tick || "", bestBid, bestAsk].map((p) => (p.split(".")[1] || "").length));
  const by = (Number(bestBid) - Number(bestAsk)).toFixed(d);
  const head = el("b", {}, Number(bestBid) === Number(bestAsk) ? "locked" : `crossed by ${by}`);
  const ind = state.indicative[m.symbol];
  if (m.state === "continuous") return [head];
  const where = ind && ind.price !== null && ind.price !== undefined
    ? `the call auction will uncross at ${ind.price} (${ind.volume} ${m.base})`
    : "the call auction will uncross it at one price";
  $("spread").className = "spread crossed";
  return [head, `: in ${STOPPED[m.state] || m.state} orders are collected, not matched; ${where}`];
}

function renderTrades(symbol) {
  const trades = state.trades[symbol] || [];
  $("trades").querySelector("tbody").replaceChildren(...trades.slice(0, 30).map((t) =>
    el("tr", {}, el("td", {}, clock(t.ts)), el("td", { class: t.taker_side }, t.price), el("td", {}, t.qty),
      el("td", { class: t.taker_side }, t.taker_side))));
}

function renderReserves(s) {
  const chain = s.chain || {};
  const att = chain.attestation || {};
  const por = s.por || {};
  const epoch = att.epoch ?? por.epoch;
  // what the ratios compare: the registry's live reserves against the liabilities attested at the
  // latest epoch, less what Custody paid out to withdrawers since (docs/por.md)
  const at = att.attested_at ? att.attested_at * 1000 : att.age_s !== undefined && s.ts ? s.ts - att.age_s * 1000 : null;
  let text = epoch ? `live reserves vs liabilities attested at epoch ${epoch}${at ? ` (${hhmm(at)})` : ""}, less payouts since`
    : "no attestation yet";
  if (att.age_s !== undefined) text += ` · attested ${duration(att.age_s)} ago`;
  if (att.fresh !== undefined) text += att.fresh ? " · fresh" : " · STALE";
  if (att.heartbeat_s) text += ` (heartbeat ${duration(att.heartbeat_s)})`;
  $("attestation").textContent = text;
  const debtors = por.debtors || null;
  const owed = (debtors && debtors.debt) || {};
  const haltBelow = att.halt_below_bps || FULL_RESERVE_BPS;
  const custodyHalted = !!(chain.paused && chain.paused.custody);
  // Net: red only once it is a halt (Custody halted by the registry); below the registry's threshold
  // but not halted, amber with what it means. Gross has no threshold: never an alarm.
  const ratioCell = (bps, cls) => {
    const big = typeof bps === "string" || bps === null || bps === undefined;
    if (big) return el("td", { class: `${cls} ok` }, "no liabilities");
    const text = (bps / 100).toFixed(2) + " %";
    if (bps >= haltBelow) return el("td", { class: `${cls} ok` }, text);
    if (cls === "gross") {
      return el("td", { class: "gross plain", title: "reserves over equity alone, counting nothing debtors owe: no halt threshold" }, text);
    }
    if (custodyHalted) return el("td", { class: "ratio low", title: "Custody is halted" }, text, el("span", { class: "small" }, " Custody halted"));
    return el("td", { class: "ratio warn", title: `under the registry's ${(haltBelow / 100).toFixed(2)} %: anyone's check_solvency halts Custody` }, text,
      el("span", { class: "small" }, ` under ${(haltBelow / 100).toFixed(2)} %`));
  };
  const rows = Object.entries(chain.reserves || {}).map(([asset, r]) => {
    const bps = typeof r === "object" ? r.ratio_bps : r;
    // Gross: reserves over (net liabilities + debt), the attested equity less payouts since (display only).
    const gross = Number(r.liabilities) + Number(owed[asset] || 0);
    const grossBps = gross > 0 ? Math.floor((Number(r.reserves) * 10000) / gross) : null;
    return el("tr", { "data-asset": asset }, el("td", {}, asset), ratioCell(bps, "ratio"),
      ratioCell(grossBps, "gross"), el("td", {}, show(r.reserves)), el("td", {}, show(r.liabilities)),
      el("td", {}, show(owed[asset] ?? "–")));
  });
  $("reserves").querySelector("tbody").replaceChildren(...rows);
  if (debtors) {
    const uncovered = debtors.count - debtors.covered;
    const held = Object.entries(debtors.collateral || {}).filter(([, v]) => v !== "0").map(([k, v]) => `${v} ${k}`);
    let line = `epoch ${por.epoch}: ${debtors.count} debtor${debtors.count === 1 ? "" : "s"}`;
    if (debtors.count) line += ` holding ${held.join(", ") || "nothing"} as collateral`;
    if (uncovered > 0) line += ` · ${uncovered} NOT COVERED at the attested prices`;
    $("debtors").replaceChildren(line + " · ", el("a", { href: debtors.register }, "register"));
  }
}

function renderInsurance(s) {
  const rows = [];
  const fund = (s.chain && s.chain.insurance_fund) || null;
  if (fund && fund.assets !== undefined) {
    rows.push(el("tr", {}, el("th", {}, "on-chain fund"), el("td", { id: "fund-assets" }, `${fund.assets} ${fund.asset || ""}`)));
    if (fund.cover_headroom !== undefined) {
      rows.push(el("tr", {}, el("th", {}, "cover headroom"), el("td", {}, `${fund.cover_headroom} ${fund.asset || ""}`)));
    }
    if (fund.frozen !== undefined) rows.push(el("tr", {}, el("th", {}, "unstaking"), el("td", {}, fund.frozen ? "FROZEN" : "open")));
  } else if (fund && typeof fund === "object") {
    for (const [k, v] of Object.entries(fund)) rows.push(el("tr", {}, el("th", {}, `on-chain ${k}`), el("td", {}, show(v))));
  }
  const ins = s.insurance || { balances: {}, bad_debt: {} };
  for (const [k, v] of Object.entries(ins.balances)) rows.push(el("tr", {}, el("th", {}, `backstop account`), el("td", {}, `${v} ${k}`)));
  for (const [k, v] of Object.entries(ins.bad_debt)) rows.push(el("tr", {}, el("th", {}, `bad debt ${k}`), el("td", {}, v)));
  if (!rows.length) rows.push(el("tr", {}, el("td", { class: "muted" }, "nothing reported yet")));
  $("insurance").querySelector("tbody").replaceChildren(...rows);
}

function renderAlerts(s) {
  const seen = new Set();
  const all = [...state.alerts, ...(s.alerts || []).slice().reverse()].filter((a) => {
    const key = `${a.ts}|${a.kind}|${a.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  $("alerts").replaceChildren(...(all.length ? all.slice(0, 20).map((a) =>
    el("li", {}, `${clock(a.ts)} ${a.kind}: ${a.message}`)) : [el("li", { class: "muted" }, "no alerts")]));
  renderCustodyMoves(all);
}

// Hot/cold rebalancing and journal anchors (offchain/chain/rebalancer.py, anchor.py): one line per move.
const CUSTODY_KINDS = new Set(["rebalance", "rebalance_proposed", "journal_anchored"]);

function renderCustodyMoves(all) {
  let list = document.getElementById("custody-moves");
  if (!list) {
    list = el("ul", { id: "custody-moves" });
    $("alerts").after(el("h3", {}, "custody: hot/cold moves and journal anchors"), list);
  }
  const moves = all.filter((a) => CUSTODY_KINDS.has(a.kind)).slice(0, 10);
  list.replaceChildren(...(moves.length ? moves.map((a) =>
    el("li", {}, `${clock(a.ts)} ${a.kind === "rebalance_proposed" ? "proposed" : a.kind === "rebalance" ? "moved" : "anchored"}: ${a.message}`))
    : [el("li", { class: "muted" }, "no moves yet")]));
}

const bps = (v) => (v >= NO_HOT_BPS ? "∞ (no hot reserves)" : (v / 100).toFixed(2) + " %");

function gaugeCell(value, threshold, direction, active) {
  if (value === undefined || value === null || typeof value !== "number") return el("td", { class: "gauge muted" }, "–");
  threshold = threshold || 0;
  const beyond = active || (direction === "above" ? value > threshold : value < threshold);
  const scale = Math.max(threshold * 2, Math.min(value, NO_HOT_BPS - 1), 1);
  const width = Math.min(100, (100 * value) / scale);
  const mark = Math.min(100, (100 * threshold) / scale);
  return el("td", { class: `gauge ${beyond ? "hot" : "ok"}` },
    el("b", {}, bps(value)), " ", el("span", { class: "muted small" }, `alerts ${direction === "above" ? ">" : "<"} ${bps(threshold)}`),
    el("div", { class: "bar" }, el("span", { style: `width:${width}%` }), el("i", { style: `left:${mark}%` })));
}

function renderEarlyWarning(s) {
  const ew = (s.chain && s.chain.early_warning) || null;
  const body = $("early-warning").querySelector("tbody");
  if (!ew || !ew.assets) {
    $("ew-window").textContent = "";
    $("ew-withdrawals").textContent = "no reading from the chain watcher yet";
    body.replaceChildren();
    return;
  }
  const thresholds = ew.thresholds || {};
  const active = new Set((ew.active || []).map(([kind, asset]) => `${kind}|${asset}`));
  const kinds = { withdrawal_rate_bps: "withdrawal_rate", bank_run_bps: "bank_run", hot_coverage_bps: "hot_reserves_low" };
  $("ew-window").textContent = ew.window_s ? `rolling ${duration(ew.window_s)}` : "";
  const c = ew.counters || {};
  $("ew-withdrawals").replaceChildren(el("span", { class: "counts" },
    "withdrawals since the daemon started: ", el("b", { id: "ew-requested" }, String(c.withdrawals_requested_total || 0)), "requested · ",
    el("b", { id: "ew-paid" }, String(c.withdrawals_paid_total || 0)), "paid on-chain · ",
    el("b", { id: "ew-refunded", class: c.withdrawals_refunded_total ? "refunded" : "" }, String(c.withdrawals_refunded_total || 0)),
    "refunded (Custody refused them for good)"));
  body.replaceChildren(...Object.entries(ew.assets).map(([asset, g]) => el("tr", { "data-asset": asset },
    el("td", {}, asset),
    ...WARNING_GAUGES.map(([gauge, key, direction]) => {
      const cell = gaugeCell(g[gauge], thresholds[key], direction, active.has(`${kinds[gauge]}|${asset}`));
      cell.setAttribute("data-gauge", gauge);
      return cell;
    }),
    el("td", { "data-gauge": "withdrawal_requests" }, show(g.withdrawal_requests)),
    el("td", {}, show(g.withdrawal_demand)),
    el("td", {}, show(g.withdrawals_owed)),
    el("td", {}, show(g.hot_reserves)))));
}

refreshStatus().then(connect);
