"""The /reset-password page in a real browser (headless Chromium, as in test_console_browser.py): under its
strict Content-Security-Policy (its own inline script and style, by hash) it still sets the password."""

import os
from pathlib import Path

import pytest
from conftest import BACKENDS, add_agent, reset_code

CHROMIUM = os.environ.get("AGENTCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PATIENCE_MS = 20_000


def test_the_page_sets_the_password_under_its_policy(server, api, mailbox):
    if server.settings.database_url.split("+", 1)[0] != BACKENDS[0]:
        pytest.skip("the browser tests run on the first backend only")
    if os.environ.get("AGENTCHAT_SKIP_BROWSER") == "1":
        pytest.skip("AGENTCHAT_SKIP_BROWSER=1")
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is missing at {CHROMIUM}: run `apt-get install -y chromium`, "
                    "or set AGENTCHAT_SKIP_BROWSER=1 to skip the browser tests.")
    from playwright.sync_api import expect, sync_playwright

    add_agent(server, name="Ann", email="ann@example.com")
    api.ok(api.get("RequestPasswordReset", params={"EmailAddress": "ann@example.com"}))
    code = reset_code(mailbox.wait_for("ann@example.com")[-1])
    refused: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(base_url=server.base_url)
        page.set_default_timeout(PATIENCE_MS)
        page.on("console", lambda message: refused.append(message.text)
                if "Content Security Policy" in message.text else None)
        page.goto(f"/reset-password?ResetCode={code}")
        page.get_by_label("New password").fill("a new password")
        page.get_by_label("Repeat it").fill("a new password")
        page.get_by_role("button", name="Set password").click()
        expect(page.locator("#result")).to_have_text("Your password is set. You can log on now.",
                                                     timeout=PATIENCE_MS)
        # Styled by its own (hashed) style block: the button's colour is the page's.
        assert page.eval_on_selector("button", "b => getComputedStyle(b).backgroundColor") == "rgb(11, 92, 173)"
        browser.close()
    assert not refused, refused
    assert api.logon("ann@example.com", "a new password")
