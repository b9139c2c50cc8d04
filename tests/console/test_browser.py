"""The staff console in headless Chromium: a call paid in the browser, found by billing, and
every page checked with axe-core (WCAG 2.1 AA), by keyboard, and at 200% zoom.

Chromium is Debian's package (.ci/run installs it); without it these tests skip outside CI.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.conftest import served
from tests.console.conftest import ANA_BIRTH, ANA_MRN, PASSWORD

CHROMIUM = os.environ.get("IVR_TEST_CHROMIUM") or shutil.which("chromium")
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# 200% zoom of a 1280-pixel-wide window: a page 640 CSS pixels wide.
ZOOMED = {"width": 640, "height": 900}
# No network beyond localhost here: Chromium's own background connections are turned off.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if CHROMIUM is None:
        if os.environ.get("CI"):
            raise RuntimeError("CI must install chromium (Debian package) for the browser tests")
        pytest.skip("no chromium installed (apt-get install chromium)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def base_url(console) -> Iterator[str]:
    # Threaded, as a browser asks for a page's stylesheet and script at once.
    with served(console, threaded=True) as url:
        yield url


@pytest.fixture
def page(browser: Browser, base_url: str) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def signed_in(page: Page, username: str = "dana") -> Page:
    page.goto("/sign-in")
    page.get_by_label("Name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()
    return page


def accessibility_problems(page: Page) -> list[str]:
    """What axe-core finds against WCAG 2.1 A and AA on the page as it is now."""
    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [
        f"{violation['id']}: {node['target']}"
        for violation in results.response["violations"]
        for node in violation["nodes"]
    ]


def heard(page: Page, text: str | re.Pattern) -> None:
    expect(page.locator("#heard li").filter(has_text=text).last).to_be_visible()


def place_call(page: Page) -> None:
    page.goto("/phone")
    page.get_by_label("Pay line to call").select_option("+18773659900")
    page.get_by_label("The call's date and time").fill("2026-11-27T12:00")
    page.get_by_label("Read the prompts aloud").uncheck()
    page.get_by_role("button", name="Call", exact=True).click()
    heard(page, "Enter your medical record number, then press pound.")


def test_a_call_paid_in_the_browser_is_on_the_map_and_found_by_billing(page: Page):
    signed_in(page)
    place_call(page)
    assert accessibility_problems(page) == []
    # The computer's keyboard is the phone's keypad; # ends the MRN as on a phone.
    page.keyboard.type(f"{ANA_MRN}#")
    heard(page, "Now enter your birth date as month, day, and year.")
    page.keyboard.type(ANA_BIRTH)
    heard(page, "Thank you, Ana.")
    page.get_by_role("group", name="Keypad").get_by_role("button", name="1", exact=True).click()
    card_form = page.locator("#card-form")
    expect(card_form).to_be_visible()
    page.get_by_label("Card", exact=True).select_option("4242424242424242")
    page.get_by_role("button", name="Type this card").click()
    heard(page, "with your Visa ending in 4242")
    page.keyboard.press("1")
    heard(page, re.compile(r"your confirmation number is \d{10}"))
    spoken = page.locator("#heard li").filter(has_text="confirmation number is").last.inner_text()
    number = re.search(r"\d{10}", spoken).group(0)

    taken = page.locator("#live-map g.step.taken")
    assert taken.count() >= 6
    expect(page.locator("#live-map g.step.current")).to_have_count(1)
    assert page.locator("#live-map path.edge.taken").count() >= 3
    path = page.locator("#path-list li").all_inner_texts()
    assert path[0] == "entry.incoming" and "capture.card" in path and "pay.finished" in path
    assert accessibility_problems(page) == []

    with page.expect_download() as downloading:
        page.get_by_role("link", name="Download as a call script").click()
    script = downloading.value.path().read_text(encoding="utf-8")
    assert "dial: '+18773659900'" in script or 'dial: "+18773659900"' in script
    assert f"press: '{ANA_MRN}#'" in script or f'press: "{ANA_MRN}#"' in script

    page.get_by_role("link", name="Payments").click()
    page.get_by_label("Confirmation number").fill(number)
    page.get_by_role("button", name="Find").click()
    payment = page.get_by_role("region", name=f"Payment {number}")
    expect(payment).to_contain_text("succeeded")
    expect(payment).to_contain_text("$200.00")
    expect(payment).to_contain_text("Ana L. (MRN ending 0001)")
    assert accessibility_problems(page) == []


def test_every_page_passes_axe_and_reflows_at_200_percent_zoom(page: Page):
    signed_in(page)
    page.set_viewport_size(ZOOMED)
    for path in ("/", "/phone", "/map", "/payments", "/members", "/outbox"):
        page.goto(path)
        assert accessibility_problems(page) == [], path
        # Nothing to scroll sideways but the map's own frame (a drawing may scroll).
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} is {overflow} px too wide at 200% zoom"
    page.goto("/sign-in")
    assert accessibility_problems(page) == []


def test_the_console_works_from_the_keyboard_alone(page: Page):
    page.goto("/sign-in")
    expect(page.get_by_label("Name")).to_be_focused()
    page.keyboard.type("bea")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_text("Signed in as bea")).to_be_visible()
    page.goto("/members")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to the content")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.get_by_label("Medical record number")).to_be_focused()
    page.keyboard.type(ANA_MRN)
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Show recent calls and payments")).to_be_focused()
    page.keyboard.press("Enter")
    member = re.compile(r"Ana L\. \(MRN ending 0001\)")
    expect(page.get_by_role("heading", name=member)).to_be_visible()
    assert ANA_MRN not in page.content()
