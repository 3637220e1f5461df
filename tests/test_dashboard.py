"""The dashboard at /localex/ui/, end to end in a real browser: headless Chromium (Debian's
`chromium`) driven by Playwright through its executable path. Each view is photographed into
test-screenshots/ (git-ignored) so a person can look.

Chromium missing: on CI (CI=true) these tests fail; elsewhere they install it the way .ci/run does
(apt-get, as root) and skip only when that cannot be done.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from decimal import Decimal as D
from pathlib import Path

import pytest

from localex.client import BitgetClient
from localex.demo import copy_world
from localex.engine.model import OrderType, PositionSide, Side, TradeSide
from localex.testing import Emulator, ServerThread

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SHOTS = Path(__file__).resolve().parent.parent / "test-screenshots"
WAIT_MS = 30_000  # generous: the machine may be busy; nothing here measures time


def chromium_path() -> str:
    found = shutil.which("chromium") or (CHROMIUM if os.path.exists(CHROMIUM) else None)
    if found:
        return found
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed: .ci/run installs it (apt-get install -y chromium)")
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "update"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "chromium"], check=False, capture_output=True)
        found = shutil.which("chromium")
        if found:
            return found
    pytest.skip("chromium is not installed and cannot be installed here (apt-get install -y chromium)")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    profile = tempfile.mkdtemp(prefix="localex-chromium-")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=executable, headless=True, args=ARGS,
            viewport={"width": 1400, "height": 900})
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def served():
    emu = Emulator(clock="manual", seed=11)
    server = emu.serve()
    try:
        yield emu
    finally:
        server.stop()


@pytest.fixture
def emu(served):
    served.reset()
    served.app.journal.clear()
    served.app.faults.clear()
    return served


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert errors == [], errors  # the page's own script never failed


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def open_view(page, emu, view: str):
    page.goto(f"{emu.url}/localex/ui/#{view}")
    page.wait_for_function(f"document.body.dataset.view === '{view}' && document.body.dataset.refreshed",
                           timeout=WAIT_MS)


def resting_buy(emu, creds, price="94000", size="0.01"):
    return emu.engine.place_spot_order(creds.uid, "BTCUSDT", Side.BUY, OrderType.LIMIT, D(size), D(price))


def test_every_view_loads_and_is_photographed(page, emu):
    from playwright.sync_api import expect

    alice = emu.create_user(name="alice", futures={"usdt-futures": {"USDT": 5000}})
    order = resting_buy(emu, alice)
    emu.engine.place_futures_order(alice.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                                   trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    copy_world(emu.engine)
    open_view(page, emu, "overview")
    expect(page.get_by_test_id("card-health")).to_have_text("ok", timeout=WAIT_MS)
    expect(page.get_by_test_id("card-clock")).to_have_text("manual")
    expect(page.get_by_test_id("instruments")).to_contain_text("95000")
    shot(page, "overview")

    page.click("#nav a[data-view=accounts]")
    page.get_by_test_id("users").get_by_text("alice").click()
    expect(page.get_by_test_id("spot-balances")).to_contain_text("USDT", timeout=WAIT_MS)
    expect(page.get_by_test_id("futures-balances")).to_contain_text("usdt-futures")
    keys = page.get_by_test_id("api-keys")
    expect(keys).to_contain_text(alice.api_key)
    expect(keys).to_contain_text("hidden")
    assert alice.secret_key not in page.content() and alice.passphrase not in page.content()
    shot(page, "accounts")

    page.click("#nav a[data-view=orders]")
    page.get_by_test_id("ord-user").select_option(alice.uid)
    expect(page.get_by_test_id("orders")).to_contain_text(str(order.order_id), timeout=WAIT_MS)
    page.get_by_test_id("ord-market").select_option("usdt-futures")
    expect(page.get_by_test_id("positions")).to_contain_text("long", timeout=WAIT_MS)
    shot(page, "orders")

    page.click("#nav a[data-view=copy]")
    expect(page.get_by_test_id("traders")).to_contain_text("trader", timeout=WAIT_MS)
    shot(page, "copy-trading")

    emu.set_price("BTCUSDT", 94500)
    emu.advance_clock(60_000)
    assert emu.set_price("BTCUSDT", 93900)  # alice's bid fills: a fill to mark on the chart
    page.click("#nav a[data-view=chart]")
    page.get_by_test_id("chart-inst").select_option("bitget:spot:BTCUSDT")
    page.get_by_test_id("chart-user").select_option(alice.uid)
    # candles from the market tape: the opening minute and the next one
    expect(page.get_by_test_id("chart-source")).to_contain_text("market tape", timeout=WAIT_MS)
    assert page.get_by_test_id("candle").count() >= 2
    expect(page.get_by_test_id("fill-marker")).to_have_count(1, timeout=WAIT_MS)
    shot(page, "chart")
    page.get_by_test_id("chart-kind").select_option("mark")
    expect(page.get_by_test_id("mark-line")).to_have_count(1, timeout=WAIT_MS)
    expect(page.get_by_test_id("fill-marker")).to_have_count(1)
    shot(page, "chart-mark-line")

    page.click("#nav a[data-view=journal]")
    expect(page.get_by_test_id("journal")).to_be_visible()
    shot(page, "journal")

    page.click("#nav a[data-view=controls]")
    expect(page.get_by_test_id("f-price")).to_be_visible()
    shot(page, "controls")


def test_a_click_sets_the_price_and_the_resting_order_fills_without_a_reload(page, emu):
    from playwright.sync_api import expect

    alice = emu.create_user(name="alice")
    order = resting_buy(emu, alice)
    open_view(page, emu, "orders")
    page.get_by_test_id("ord-user").select_option(alice.uid)
    row = page.get_by_test_id("orders").locator("tr", has_text=str(order.order_id))
    expect(row.get_by_test_id("order-status")).to_have_text("live", timeout=WAIT_MS)
    page.evaluate("window.__sameDocument = true")

    page.click("#nav a[data-view=controls]")
    form = page.get_by_test_id("f-price")
    form.locator("select[name=inst]").select_option("bitget:spot:BTCUSDT")
    form.locator("input[name=price]").fill("93900")
    form.get_by_role("button", name="Set price").click()
    expect(page.get_by_test_id("toast")).to_contain_text("BTCUSDT at 93900: 1 fill(s)", timeout=WAIT_MS)

    page.click("#nav a[data-view=orders]")
    expect(row.get_by_test_id("order-status")).to_have_text("filled", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True  # no reload happened
    # the order's history: placed, then its fill as maker at its own price
    row.click()
    steps = page.get_by_test_id("history-steps")
    expect(steps).to_contain_text("placed: buy 0.01 BTCUSDT limit @ 94000", timeout=WAIT_MS)
    expect(steps).to_contain_text("fill: 0.01 @ 94000 (maker)")

    # and a move made elsewhere shows up by itself while the view is open
    second = resting_buy(emu, alice, price="93000")
    expect(page.get_by_test_id("orders")).to_contain_text(str(second.order_id), timeout=WAIT_MS)
    emu.set_price("BTCUSDT", 92000)
    second_row = page.get_by_test_id("orders").locator("tr", has_text=str(second.order_id))
    expect(second_row.get_by_test_id("order-status")).to_have_text("filled", timeout=WAIT_MS)
    assert page.evaluate("window.__sameDocument") is True


def test_a_tracking_order_leads_to_its_copies_with_ids_exact(page, emu):
    from playwright.sync_api import expect

    accounts = copy_world(emu.engine)
    trader = accounts[0]
    emu.engine.place_futures_order(trader.uid, "usdt-futures", "BTCUSDT", pos_side=PositionSide.LONG,
                                   trade_side=TradeSide.OPEN, order_type=OrderType.MARKET, size=D("0.01"))
    (tracking,) = emu.engine.copy.tracking_orders(trader.uid, "usdt-futures")
    copies = emu.engine.copy.copies_of(tracking.tracking_no)
    assert len(copies) == 3 and len(str(tracking.tracking_no)) == 19

    open_view(page, emu, "copy")
    page.get_by_test_id("traders").get_by_text(trader.uid).click()
    card = page.get_by_test_id("tracking-order")
    # the 19-digit number exactly as the engine has it (a JavaScript number would round it)
    expect(card.get_by_test_id("tracking-no")).to_have_text(str(tracking.tracking_no), timeout=WAIT_MS)
    table = card.get_by_test_id("copies")
    for copy in copies:
        expect(table).to_contain_text(str(copy.tracking_no))
    for name in ("follower-1", "follower-2", "follower-3"):
        expect(table).to_contain_text(name)
    shot(page, "copy-trading-tracking")


def test_a_journal_entry_opens_with_request_and_answer_secrets_redacted(page, emu):
    from playwright.sync_api import expect

    alice = emu.create_user(name="alice")
    client = BitgetClient(emu.url, alice.api_key, alice.secret_key, alice.passphrase)
    try:
        ref = client.place_spot_order("BTCUSDT", "buy", "limit", size="0.01", price="90000",
                                      client_oid="dash-1")
    finally:
        client.close()
    open_view(page, emu, "journal")
    journal = page.get_by_test_id("journal")
    row = journal.locator("tr", has_text="/api/v2/spot/trade/place-order")
    expect(row).to_contain_text("00000", timeout=WAIT_MS)
    expect(row).to_contain_text(alice.api_key[:10])
    row.click()
    detail = page.get_by_test_id("journal-detail")
    expect(detail.get_by_test_id("entry-body")).to_contain_text('"clientOid": "dash-1"', timeout=WAIT_MS)
    expect(detail.get_by_test_id("entry-response")).to_contain_text(str(ref.order_id))
    expect(detail.get_by_test_id("entry-headers")).to_contain_text("access-sign: <redacted>")
    assert alice.passphrase not in detail.inner_text()
    shot(page, "journal-entry")
    # an answer's numbers are shown as written (CoinW sends 19-digit position ids as JSON numbers)
    shown = page.evaluate("pretty('{\"positionId\":2435521222631982507,\"price\":95000.10}')")
    assert shown == '{\n  "positionId": 2435521222631982507,\n  "price": 95000.10\n}'



def test_beyond_loopback_the_dashboard_asks_for_the_admin_token(page):
    from playwright.sync_api import expect

    from localex.server.app import LocalexApp

    emu = Emulator(clock="manual")
    app = LocalexApp(emu.engine, admin_token="s3cret-token")
    with ServerThread(app).start() as server:
        page.goto(f"{server.url}/localex/ui/#overview")
        form = page.locator("#token-form")
        expect(form).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_test_id("status")).to_have_text("admin token required")
        page.fill("#token-input", "s3cret-token")
        form.get_by_role("button", name="Use token").click()
        expect(page.get_by_test_id("card-health")).to_have_text("ok", timeout=WAIT_MS)
        expect(page.get_by_test_id("instruments")).to_contain_text("BTCUSDT")
        expect(form).to_be_hidden()
