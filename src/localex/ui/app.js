// The localex dashboard: plain JavaScript over the control plane's JSON API (same origin).
// Every view polls what it shows while it is on screen; ids stay the strings the server sends.
"use strict";

const POLL_MS = 1000;
const TOKEN_KEY = "localex-admin-token";
const state = { view: null, timer: null, venues: [], instruments: [], users: {},
                journalSeq: 0, journalRows: [], journalPick: null, orderPick: null,
                traderPick: null, accountPick: null, busy: false };

// ---- helpers -------------------------------------------------------------------------------
const $ = (sel) => document.querySelector(sel);
function esc(v) {
  return String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;" }[c]));
}
// a decimal string without its trailing zeros, never through a float
function num(v) {
  if (v === null || v === undefined || v === "") return "";
  let s = String(v);
  if (s.includes(".") && !s.includes("e")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s;
}
function time(ms) {
  if (ms === null || ms === undefined) return "";
  const d = new Date(Number(ms));
  return d.toISOString().replace("T", " ").replace("Z", "");
}
function table(el, columns, rows, opts = {}) {
  const head = "<tr>" + columns.map((c) => `<th>${esc(c[0])}</th>`).join("") + "</tr>";
  const body = rows.map((r, i) => {
    const key = opts.key ? opts.key(r) : "";
    const cls = [opts.onPick ? "clickable" : "", opts.picked && opts.picked === key ? "selected" : ""]
      .join(" ").trim();
    const cells = columns.map((c) => {
      const v = c[1](r);
      const isNum = c[2] === "num";
      return `<td${isNum ? ' class="num"' : ""}>${c[3] === "html" ? v : esc(v)}</td>`;
    }).join("");
    return `<tr data-i="${i}" data-key="${esc(key)}" class="${cls}">${cells}</tr>`;
  }).join("");
  el.innerHTML = head + (body || `<tr><td colspan="${columns.length}" class="muted">nothing yet</td></tr>`);
  if (opts.onPick) {
    el.querySelectorAll("tr[data-i]").forEach((tr) => tr.addEventListener("click", (ev) => {
      if (ev.target.closest("button")) return;
      opts.onPick(rows[Number(tr.dataset.i)]);
    }));
  }
}
function toast(text, bad = false) {
  const t = $("#toast");
  t.textContent = text;
  t.className = "toast" + (bad ? " bad" : "");
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}
function setStatus(text, bad) {
  const s = $("#status");
  s.textContent = text;
  s.className = "status" + (bad ? " bad" : "");
}

class ApiError extends Error {}

// every call: same origin, a JSON content type, the admin token when the server wants one
async function api(method, path, body) {
  const headers = { "Content-Type": "application/json", "Accept": "application/json" };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers["Authorization"] = "Bearer " + token;
  const init = { method, headers, credentials: "same-origin", cache: "no-store" };
  if (body !== undefined) init.body = JSON.stringify(body);
  let resp;
  try {
    resp = await fetch(path, init);
  } catch (err) {
    setStatus("no answer from the server", true);
    throw new ApiError("no answer from the server");
  }
  const text = await resp.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (e) { data = text; }
  if (resp.status === 401) {
    $("#token-form").hidden = false;
    setStatus("admin token required", true);
    throw new ApiError("the server asks for its admin token");
  }
  if (!resp.ok) {
    const msg = data && data.error ? `${data.error.code}: ${data.error.message}` : `HTTP ${resp.status}`;
    throw new ApiError(msg);
  }
  setStatus("live", false);
  return data;
}
const get = (path) => api("GET", path);
const qs = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== "" && v != null)).toString();

function fillSelect(sel, options, keep = true) {
  const old = sel.value;
  const html = options.map(([v, label]) => `<option value="${esc(v)}">${esc(label)}</option>`).join("");
  if (sel.dataset.html !== html) {
    sel.innerHTML = html;
    sel.dataset.html = html;
    if (keep && options.some(([v]) => v === old)) sel.value = old;
  }
}

async function loadBasics() {
  const [health, instruments] = await Promise.all([get("/localex/health"), get("/localex/instruments")]);
  state.venues = health.venues;
  state.instruments = instruments;
  const venueOpts = state.venues.map((v) => [v, v]);
  for (const id of ["#acc-venue", "#ord-venue"]) fillSelect($(id), venueOpts);
  fillSelect(document.querySelector("#f-fault [name=venue]"), [["", "any venue"], ...venueOpts]);
  fillSelect($("#jr-venue"), [["", "any"], ...venueOpts]);
  const instOpts = instruments.map((i) => [`${i.venue}:${i.market}:${i.symbol}`, `${i.venue} ${i.market} ${i.symbol}`]);
  document.querySelectorAll(".inst-select").forEach((s) => fillSelect(s, instOpts));
  fillSelect($("#chart-inst"), instOpts);
  return health;
}
async function usersOf(venue) {
  const users = await get("/localex/users?" + qs({ venue }));
  state.users[venue] = users;
  return users;
}
function splitKey(key) {
  const [venue, market, ...rest] = key.split(":");
  return { venue, market, symbol: rest.join(":") };
}
function marketsOf(venue) {
  const markets = [...new Set(state.instruments.filter((i) => i.venue === venue).map((i) => i.market))];
  return markets.sort((a, b) => (a === "spot" ? -1 : b === "spot" ? 1 : a.localeCompare(b)));
}

// ---- views ---------------------------------------------------------------------------------
const views = {};

views.overview = async function () {
  const [health, clock, prices, paths, models, faults] = await Promise.all([
    loadBasics(), get("/localex/clock"), get("/localex/prices"), get("/localex/paths"),
    get("/localex/fill-models"), get("/localex/faults")]);
  const clockText = clock.kind === "speed" ? `running ×${clock.speed}` : clock.kind;
  $("#overview-cards").innerHTML = [
    ["health", health.status], ["version", health.version], ["venues", health.venues.join(", ")],
    ["clock", clockText], ["market time", time(clock.now)], ["faults", String(faults.length)],
  ].map(([k, v]) => `<div class="card"><span class="muted">${esc(k)}</span><b data-testid="card-${esc(k.replace(" ", "-"))}">${esc(v)}</b></div>`).join("");
  table($("#instruments"), [["venue", (i) => i.venue], ["market", (i) => i.market], ["symbol", (i) => i.symbol],
    ["kind", (i) => i.kind], ["mark price", (i) => num(prices[`${i.venue}:${i.market}:${i.symbol}`]), "num"],
    ["maker / taker", (i) => `${num(i.makerFee)} / ${num(i.takerFee)}`],
    ["funding", (i) => i.kind === "perpetual" ? num(i.fundingRate) : ""]], state.instruments,
    { key: (i) => `${i.venue}:${i.market}:${i.symbol}` });
  table($("#paths"), [["venue", (p) => p.venue], ["market", (p) => p.market], ["symbol", (p) => p.symbol],
    ["path", (p) => p.kind], ["volatility / h", (p) => p.volatility ?? ""], ["step", (p) => p.stepMs ?? p.intervalMs ?? ""]],
    paths);
  table($("#fill-models"), [["fill model scope", (m) => m.scope], ["kind", (m) => m.kind],
    ["params", (m) => JSON.stringify(m.params)]], models);
  renderFaults($("#overview-faults"), faults, false);
};

views.accounts = async function () {
  await loadBasics();
  const venue = $("#acc-venue").value || state.venues[0];
  const users = await usersOf(venue);
  table($("#users"), [["uid", (u) => u.uid], ["name", (u) => u.name], ["venue", (u) => u.venue],
    ["elite trader", (u) => (u.eliteTrader ? "yes" : "")], ["BGB fee deduction", (u) => (u.feeDeduction ? "on" : "")],
    ["created", (u) => time(u.createdMs)]], users,
    { key: (u) => u.uid, picked: state.accountPick, onPick: (u) => { state.accountPick = u.uid; refresh(); } });
  const uid = state.accountPick && users.some((u) => u.uid === state.accountPick) ? state.accountPick : null;
  const detail = $("#account-detail");
  if (!uid) { detail.innerHTML = '<p class="muted">Pick a user to see balances and keys.</p>'; return; }
  const [acct, futures, keys] = await Promise.all([get("/localex/accounts?" + qs({ uid })),
    get("/localex/futures-accounts?" + qs({ uid })), get("/localex/keys?" + qs({ uid }))]);
  detail.innerHTML = `<h2>${esc(acct.name)} <span class="muted">uid ${esc(uid)}</span></h2>
    <h3>Spot balances</h3><table id="spot-balances" data-testid="spot-balances"></table>
    <h3>Futures accounts</h3><table id="futures-balances" data-testid="futures-balances"></table>
    <h3>API keys</h3><table id="api-keys" data-testid="api-keys"></table>`;
  table($("#spot-balances"), [["asset", (b) => b.asset], ["available", (b) => num(b.available), "num"],
    ["frozen", (b) => num(b.frozen), "num"]], acct.balances.filter((b) => b.account === "spot"));
  table($("#futures-balances"), [["market", (f) => f.market], ["asset", (f) => f.asset],
    ["available", (f) => num(f.available), "num"], ["frozen", (f) => num(f.frozen), "num"],
    ["position margin", (f) => num(f.margin), "num"], ["unrealized PnL", (f) => num(f.unrealizedPnl), "num"],
    ["equity", (f) => num(f.equity), "num"]], futures);
  table($("#api-keys"), [["API key", (k) => k.apiKey], ["kind", (k) => k.kind], ["label", (k) => k.label],
    ["permissions", (k) => k.permissions.join(", ")], ["IP whitelist", (k) => k.ipWhitelist.join(", ") || "any"],
    ["secret", () => "hidden"], ["passphrase", (k) => (k.hasPassphrase ? "hidden" : "none")]], keys);
};

views.orders = async function () {
  await loadBasics();
  const venue = $("#ord-venue").value || state.venues[0];
  const users = await usersOf(venue);
  fillSelect($("#ord-user"), users.map((u) => [u.uid, `${u.name} (${u.uid})`]));
  fillSelect($("#ord-market"), marketsOf(venue).map((m) => [m, m]));
  const uid = $("#ord-user").value;
  const market = $("#ord-market").value || "spot";
  if (!uid) { table($("#orders"), [["orders", () => ""]], []); return; }
  const symbol = $("#ord-symbol").value.trim();
  const status = $("#ord-status").value;
  const type = $("#ord-type").value;
  const [orders, positions] = await Promise.all([
    get("/localex/orders?" + qs({ uid, market, symbol, status })),
    market === "spot" ? Promise.resolve([]) : get("/localex/positions?" + qs({ uid, market, symbol, status: "all" }))]);
  const shown = orders.filter((o) => !type || o.orderType === type);
  const open = (o) => ["live", "new", "init", "partially_filled", "untriggered"].includes(o.status);
  table($("#orders"), [
    ["orderId", (o) => o.orderId], ["symbol", (o) => o.symbol],
    ["side", (o) => `<span class="${o.side}">${esc(o.side)}${o.tradeSide ? " " + esc(o.tradeSide) + " " + esc(o.posSide) : ""}</span>`, "", "html"],
    ["type", (o) => o.orderType + (o.kind && o.kind !== "regular" ? ` (${o.kind})` : "")],
    ["price", (o) => num(o.price), "num"], ["size", (o) => num(o.size), "num"],
    ["filled", (o) => num(o.filledSize), "num"],
    ["status", (o) => `<span data-testid="order-status">${esc(o.status)}</span>`, "", "html"],
    ["cancel reason", (o) => o.cancelReason || ""], ["created", (o) => time(o.createdMs)],
    ["", (o) => open(o) ? `<button data-act="fill" data-id="${esc(o.orderId)}">Fill</button> <button data-act="reject" data-id="${esc(o.orderId)}">Reject</button>` : "", "", "html"],
  ], shown, { key: (o) => o.orderId, picked: state.orderPick, onPick: (o) => { state.orderPick = o.orderId; refresh(); } });
  $("#orders").querySelectorAll("button[data-act]").forEach((b) => b.addEventListener("click", async () => {
    try {
      await api("POST", `/localex/orders/${b.dataset.act}`, { uid, orderId: b.dataset.id });
      toast(`${b.dataset.act === "fill" ? "filled" : "rejected"} order ${b.dataset.id}`);
    } catch (err) { toast(err.message, true); }
    refresh();
  }));
  const picked = shown.find((o) => o.orderId === state.orderPick);
  const hist = $("#order-history");
  if (!picked) {
    hist.innerHTML = '<p class="muted">Click an order to see its history.</p>';
  } else {
    const fills = await get("/localex/fills?" + qs({ uid, market, orderId: picked.orderId }));
    const steps = [[picked.createdMs, `placed: ${picked.side} ${num(picked.size)} ${picked.symbol} ${picked.orderType}${picked.price ? " @ " + num(picked.price) : ""}`]];
    let filled = 0;
    fills.slice().reverse().forEach((f) => {
      filled += 1;
      const partial = filled < fills.length || ["partially_filled", "cancelled"].includes(picked.status);
      steps.push([f.createdMs, `${partial ? "partial fill" : "fill"}: ${num(f.size)} @ ${num(f.price)} (${f.liquidity}), fee ${num(f.fee)}${f.feeAsset ? " " + f.feeAsset : ""}, trade ${f.tradeId}`]);
    });
    if (picked.status === "cancelled") steps.push([picked.updatedMs, `cancelled${picked.cancelReason ? ": " + picked.cancelReason : ""}`]);
    else if (picked.status === "filled") steps.push([picked.updatedMs, "filled"]);
    else steps.push([picked.updatedMs, `now ${picked.status}`]);
    hist.innerHTML = `<h3>Order ${esc(picked.orderId)}</h3><ol data-testid="history-steps">` +
      steps.map(([t, s]) => `<li><span class="muted">${esc(time(t))}</span> ${esc(s)}</li>`).join("") + "</ol>";
  }
  table($("#positions"), [["positionId", (p) => p.positionId], ["symbol", (p) => p.symbol],
    ["side", (p) => `<span class="${p.side === "long" ? "buy" : "sell"}">${esc(p.side)}</span>`, "", "html"],
    ["size", (p) => num(p.size), "num"], ["entry", (p) => num(p.entryPrice), "num"],
    ["mark", (p) => num(p.markPrice), "num"], ["unrealized PnL", (p) => num(p.unrealizedPnl), "num"],
    ["realized PnL", (p) => num(p.realizedPnl), "num"], ["margin", (p) => num(p.margin), "num"],
    ["leverage", (p) => `${p.leverage}x ${p.marginMode}`], ["liquidation", (p) => num(p.liquidationPrice) || "—", "num"],
    ["open", (p) => (p.open ? "open" : "closed")]], positions);
};

views.copy = async function () {
  const traders = await get("/localex/copy/traders?venue=bitget");
  table($("#traders"), [["trader uid", (t) => t.uid], ["name", (t) => t.name],
    ["profit share", (t) => num(t.profitShareRatio)], ["followers", (t) => t.followers.map((f) => f.name).join(", ")],
    ["profit shares paid", (t) => String(t.profitShares.length)]], traders,
    { key: (t) => t.uid, picked: state.traderPick, onPick: (t) => { state.traderPick = t.uid; refresh(); } });
  if (!state.traderPick && traders.length) state.traderPick = traders[0].uid;
  const trader = traders.find((t) => t.uid === state.traderPick);
  const out = $("#tracking");
  if (!trader) { out.innerHTML = '<p class="muted">No elite trader yet.</p>'; return; }
  const tracking = await get("/localex/copy/tracking?" + qs({ uid: trader.uid, status: "all" }));
  const names = Object.fromEntries(trader.followers.map((f) => [f.uid, f.name]));
  let html = `<h2>${esc(trader.name)}: tracking orders → the followers' copies</h2>`;
  if (!tracking.length) html += '<p class="muted">No tracking order yet: the trader opens a position on a copy symbol.</p>';
  for (const tr of tracking) {
    html += `<div class="card" data-testid="tracking-order"><b>trackingNo <span data-testid="tracking-no">${esc(tr.trackingNo)}</span></b>
      ${esc(tr.symbol)} ${esc(tr.posSide)} ${esc(num(tr.openSize))} @ ${esc(num(tr.openPrice))} · ${esc(tr.status)}${tr.followCount ? " · " + esc(tr.followCount) + " follower(s)" : ""}
      <span class="muted">open order ${esc(tr.openOrderId)}</span>
      <table data-testid="copies"><tr><th>follower</th><th>copy trackingNo</th><th>status</th><th>size</th><th>open price</th><th>close price</th><th>PnL</th><th>profit share</th></tr>` +
      (tr.copies.map((c) => `<tr><td>${esc(names[c.followerUid] || c.followerUid)}</td><td>${esc(c.trackingNo)}</td><td>${esc(c.status)}</td><td class="num">${esc(num(c.openSize))}</td><td class="num">${esc(num(c.openPrice))}</td><td class="num">${c.closeSize && num(c.closeSize) !== "0" ? esc(num(c.closePrice)) : ""}</td><td class="num">${esc(num(c.achievedPl))}</td><td class="num">${esc(num(c.profitShare))}</td></tr>`).join("") ||
       '<tr><td colspan="8" class="muted">no copies</td></tr>') + "</table></div>";
  }
  html += `<h2>Profit shares</h2><table data-testid="profit-shares"><tr><th>profitId</th><th>follower</th><th>amount</th><th>copy</th><th>time</th></tr>` +
    (trader.profitShares.map((s) => `<tr><td>${esc(s.profitId)}</td><td>${esc(names[s.followerUid] || s.followerUid)}</td><td class="num">${esc(num(s.amount))} ${esc(s.coin)}</td><td>${esc(s.followerTrackingNo)}</td><td>${esc(time(s.createdMs))}</td></tr>`).join("") ||
     '<tr><td colspan="5" class="muted">none yet</td></tr>') + "</table>";
  out.innerHTML = html;
};

views.chart = async function () {
  await loadBasics();
  const key = $("#chart-inst").value;
  if (!key) return;
  const inst = splitKey(key);
  const users = await usersOf(inst.venue);
  fillSelect($("#chart-user"), [["", "nobody"], ...users.map((u) => [u.uid, `${u.name} (${u.uid})`])]);
  const kind = $("#chart-kind").value;
  const uid = $("#chart-user").value;
  const fills = uid ? await get("/localex/fills?" + qs({ uid, market: inst.market, symbol: inst.symbol })) : [];
  if (kind === "mark") {
    const history = await get("/localex/prices/history?" + qs(inst));
    $("#chart-source").textContent = `mark price, ${history.points.length} points`;
    drawChart($("#chart"), history.points, [], fills);
  } else {
    // candles from the market tape (every mark the market took, with the fills' volume)
    const tape = await get("/localex/candles?" + qs({ ...inst, interval: kind, limit: 120 }));
    $("#chart-source").textContent = `market tape, ${tape.candles.length} candles of ${kind}`;
    drawChart($("#chart"), [], tape.candles, fills, { "1m": 60000, "5m": 300000, "15m": 900000, "1h": 3600000 }[kind]);
  }
};

function drawChart(svg, points, candles, fills, width = 60000) {
  const W = 900, H = 360, L = 70, R = 10, T = 10, B = 24;
  const pts = points.map(([t, p]) => [Number(t), Number(p)]);
  const bars = candles.map(([t, o, h, l, c]) => [Number(t), Number(o), Number(h), Number(l), Number(c)]);
  const fillPts = fills.map((f) => [Number(f.createdMs), Number(f.price), f.side, f]);
  const all = pts.concat(fillPts.map(([t, p]) => [t, p]),
    bars.flatMap(([t, , h, l]) => [[t, h], [t + width, l]]));
  if (!all.length) { svg.innerHTML = '<text x="20" y="30">no prices yet</text>'; return; }
  let t0 = Math.min(...all.map((a) => a[0])), t1 = Math.max(...all.map((a) => a[0]));
  let p0 = Math.min(...all.map((a) => a[1])), p1 = Math.max(...all.map((a) => a[1]));
  if (t1 === t0) { t0 -= 1000; t1 += 1000; }
  if (p1 === p0) { p0 *= 0.999; p1 *= 1.001; }
  const x = (t) => L + (t - t0) / (t1 - t0) * (W - L - R);
  const y = (p) => T + (1 - (p - p0) / (p1 - p0)) * (H - T - B);
  let html = `<line class="axis" x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}"/><line class="axis" x1="${L}" y1="${T}" x2="${L}" y2="${H - B}"/>`;
  for (let i = 0; i <= 4; i++) {
    const p = p0 + (p1 - p0) * i / 4;
    html += `<text x="4" y="${y(p) + 3}">${esc(p.toPrecision(7))}</text>`;
  }
  html += `<text x="${L}" y="${H - 6}">${esc(time(t0))}</text><text x="${W - R - 150}" y="${H - 6}">${esc(time(t1))}</text>`;
  if (pts.length) {
    // a step line: a mark holds until the next move
    let d = `M${x(pts[0][0]).toFixed(1)},${y(pts[0][1]).toFixed(1)}`;
    for (let i = 1; i < pts.length; i++) d += ` H${x(pts[i][0]).toFixed(1)} V${y(pts[i][1]).toFixed(1)}`;
    d += ` H${(W - R).toFixed(1)}`;
    html += `<path class="mark" data-testid="mark-line" d="${d}"/>`;
  }
  const bw = Math.max(1, (x(t0 + width) - x(t0)) * 0.7);
  for (const [t, o, h, l, c] of bars) {
    const cls = c >= o ? "up" : "down", cx = x(t + width / 2);
    html += `<g class="${cls}" data-testid="candle"><line class="wick" x1="${cx}" x2="${cx}" y1="${y(h)}" y2="${y(l)}"/>` +
      `<rect x="${cx - bw / 2}" y="${Math.min(y(o), y(c))}" width="${bw}" height="${Math.max(1, Math.abs(y(o) - y(c)))}"/></g>`;
  }
  for (const [t, p, side, f] of fillPts) {
    const cx = x(t), cy = y(p), up = side === "buy";
    const tri = up ? `${cx},${cy - 7} ${cx - 6},${cy + 5} ${cx + 6},${cy + 5}` : `${cx},${cy + 7} ${cx - 6},${cy - 5} ${cx + 6},${cy - 5}`;
    html += `<polygon class="fill-${up ? "buy" : "sell"}" data-testid="fill-marker" points="${tri}"><title>${esc(side)} ${esc(num(f.size))} @ ${esc(num(f.price))} (order ${esc(f.orderId)})</title></polygon>`;
  }
  svg.innerHTML = html;
}

views.journal = async function () {
  const venue = $("#jr-venue").value;
  if (state.journalVenue !== venue) { state.journalVenue = venue; state.journalSeq = 0; state.journalRows = []; }
  const params = state.journalSeq ? { afterSeq: state.journalSeq, venue } : { tail: 200, venue };
  const fresh = await get("/localex/journal?" + qs(params));
  if (fresh.length && fresh[0].seq <= state.journalSeq) { state.journalRows = []; }  // cleared meanwhile
  if (!fresh.length && state.journalSeq) {
    // a journal cleared (or reset) starts again from 1
    const latest = await get("/localex/journal?" + qs({ tail: 1, venue }));
    if (!latest.length || latest[0].seq < state.journalSeq) { state.journalSeq = 0; state.journalRows = []; }
  }
  for (const e of fresh) { state.journalRows.unshift(e); state.journalSeq = Math.max(state.journalSeq, e.seq); }
  state.journalRows = state.journalRows.slice(0, 500);
  table($("#journal"), [["#", (e) => e.seq, "num"], ["time", (e) => time(e.time)], ["venue", (e) => e.venue],
    ["key", (e) => (e.apiKey ? e.apiKey.slice(0, 10) + "…" : "")], ["method", (e) => e.method], ["path", (e) => e.path],
    ["status", (e) => `<span class="${e.status >= 400 ? "warn" : ""}">${e.status}</span>`, "num", "html"],
    ["code", (e) => e.code], ["latency", (e) => `${e.latencyMs.toFixed(1)} ms`, "num"]], state.journalRows,
    { key: (e) => String(e.seq), picked: state.journalPick, onPick: (e) => { state.journalPick = String(e.seq); showEntry(e); refresh(); } });
}

// JSON indented as written: never through JSON.parse's numbers, which would round 19-digit ids
function pretty(text) {
  try { JSON.parse(text); } catch (e) { return text; }
  let out = "", depth = 0, inString = false, escaped = false;
  const pad = () => "\n" + "  ".repeat(depth);
  for (const ch of text) {
    if (inString) {
      out += ch;
      if (escaped) escaped = false;
      else if (ch === "\\") escaped = true;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') { inString = true; out += ch; }
    else if (ch === "{" || ch === "[") { depth += 1; out += ch + pad(); }
    else if (ch === "}" || ch === "]") { depth -= 1; out += pad() + ch; }
    else if (ch === ",") { out += ch + pad(); }
    else if (ch === ":") { out += ": "; }
    else if (!/\s/.test(ch)) { out += ch; }
  }
  return out.replace(/([\[{])\n\s*([\]}])/g, "$1$2");
}
function showEntry(e) {
  const headers = Object.entries(e.headers).map(([k, v]) => `${k}: ${v}`).join("\n");
  $("#journal-detail").innerHTML = `<h3>#${e.seq} ${esc(e.method)} ${esc(e.path)}</h3>
    <b>query</b><pre data-testid="entry-query">${esc(e.query || "(none)")}</pre>
    <b>headers</b><pre data-testid="entry-headers">${esc(headers)}</pre>
    <b>body</b><pre data-testid="entry-body">${esc(pretty(e.body) || "(none)")}</pre>
    <b>answer: HTTP ${e.status}${e.code ? ", code " + esc(e.code) : ""}</b><pre data-testid="entry-response">${esc(pretty(e.response))}</pre>`;
}

function renderFaults(el, faults, removable) {
  table(el, [["fault", (f) => f.id], ["kind", (f) => f.kind], ["venue", (f) => f.venue || "any"], ["path", (f) => f.path],
    ["left", (f) => (f.remaining ?? (f.probability != null ? `p=${f.probability}` : "always"))], ["hits", (f) => f.hits, "num"], ["code / status", (f) => [f.code, f.status].filter(Boolean).join(" / ")],
    ["", (f) => (removable ? `<button data-fault="${esc(f.id)}">Remove</button>` : ""), "", "html"]], faults);
  if (removable) el.querySelectorAll("button[data-fault]").forEach((b) => b.addEventListener("click", async () => {
    try { await api("DELETE", "/localex/faults?" + qs({ id: b.dataset.fault })); toast("fault removed"); }
    catch (err) { toast(err.message, true); }
    refresh();
  }));
}

views.controls = async function () {
  await loadBasics();
  renderFaults($("#faults"), await get("/localex/faults"), true);
};

// ---- controls ------------------------------------------------------------------------------
function duration(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(text);
  if (!m) throw new ApiError(`'${text}' is not a duration (1h, 15m, 30s, 250ms)`);
  const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2] || "ms"];
  return Math.round(Number(m[1]) * unit);
}
function onSubmit(id, handler) {
  $(id).addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target);
    try { toast(await handler(Object.fromEntries(form.entries()))); }
    catch (err) { toast(err.message, true); }
    refresh();
  });
}
onSubmit("#f-price", async (f) => {
  const inst = splitKey(f.inst);
  const r = await api("POST", "/localex/prices", { ...inst, price: f.price.trim() });
  return `${inst.symbol} at ${r.price}: ${r.fills.length} fill(s)${r.liquidations.length ? `, ${r.liquidations.length} liquidation(s)` : ""}`;
});
onSubmit("#f-path", async (f) => {
  const inst = splitKey(f.inst);
  const body = { ...inst, kind: f.kind };
  if (f.volatility) body.volatility = Number(f.volatility);
  await api("POST", "/localex/paths", body);
  return `${inst.symbol}: ${f.kind} path`;
});
onSubmit("#f-clock", async (f) => {
  const r = await api("POST", "/localex/clock", { advance: duration(f.advance) });
  return `market time ${time(r.now)} (${r.pricesApplied} prices applied)`;
});
onSubmit("#f-fault", async (f) => {
  const body = { kind: f.kind };
  for (const k of ["venue", "path", "code"]) if (f[k]) body[k] = f[k];
  for (const k of ["count", "status", "latencyMs"]) if (f[k]) body[k] = Number(f[k]);
  const r = await api("POST", "/localex/faults", body);
  return `fault ${r.id} added`;
});
onSubmit("#f-fill-model", async (f) => {
  await api("POST", "/localex/fill-models", { scope: f.scope, kind: f.kind });
  return `${f.scope}: ${f.kind} fills`;
});
$("#snapshot-save").addEventListener("click", async () => {
  try {
    const snap = await get("/localex/snapshot");
    const url = URL.createObjectURL(new Blob([JSON.stringify(snap)], { type: "application/json" }));
    const a = document.createElement("a");
    a.href = url; a.download = "localex-snapshot.json"; a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    toast("snapshot downloaded");
  } catch (err) { toast(err.message, true); }
});
$("#snapshot-file").addEventListener("change", async (ev) => {
  const file = ev.target.files[0];
  if (!file) return;
  try {
    const snap = JSON.parse(await file.text());
    await api("POST", "/localex/snapshot", snap);
    toast(`restored ${file.name}`);
  } catch (err) { toast(err.message, true); }
  ev.target.value = "";
  refresh();
});
$("#reset").addEventListener("click", async () => {
  if (!confirm("Forget every user, order and price?")) return;
  try { await api("POST", "/localex/reset", {}); toast("reset"); } catch (err) { toast(err.message, true); }
  refresh();
});
$("#jr-clear").addEventListener("click", async () => {
  try { await api("DELETE", "/localex/journal"); state.journalRows = []; state.journalSeq = 0; toast("journal cleared"); }
  catch (err) { toast(err.message, true); }
  refresh();
});
$("#token-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  sessionStorage.setItem(TOKEN_KEY, $("#token-input").value.trim());
  $("#token-form").hidden = true;
  refresh();
});
for (const id of ["#acc-venue", "#ord-venue", "#ord-user", "#ord-market", "#ord-status", "#ord-type",
                  "#chart-inst", "#chart-kind", "#chart-user", "#jr-venue"]) {
  $(id).addEventListener("change", () => { state.orderPick = null; refresh(); });
}
$("#ord-symbol").addEventListener("input", () => refresh());

// ---- the loop ------------------------------------------------------------------------------
async function refresh() {
  if (state.busy) { state.again = true; return; }
  state.busy = true;
  try {
    const clock = await get("/localex/clock");
    $("#clock").textContent = `${clock.kind === "speed" ? "×" + clock.speed : clock.kind} clock · ${time(clock.now)}`;
    await views[state.view]();
    document.body.dataset.refreshed = String(Date.now());
  } catch (err) {
    if (!(err instanceof ApiError)) console.error(err);
  } finally {
    state.busy = false;
    if (state.again) { state.again = false; refresh(); }
  }
}
function show() {
  const view = (location.hash || "#overview").slice(1);
  state.view = views[view] ? view : "overview";
  document.querySelectorAll(".view").forEach((s) => { s.hidden = s.id !== "view-" + state.view; });
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.view === state.view));
  document.body.dataset.view = state.view;
  refresh();
}
window.addEventListener("hashchange", show);
show();
state.timer = setInterval(() => { if (!document.hidden) refresh(); }, POLL_MS);
