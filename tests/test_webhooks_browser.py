"""Setup > Webhooks in a real browser: a manager adds a webhook, sends a test that the local receiver gets, sees it
in the delivery log, and is told live when a failing webhook is paused."""

from test_console_browser import browser, console, log_on, one_backend, shot  # noqa: F401 (fixtures)
from test_webhooks import receiver  # noqa: F401 (fixture)


def test_manager_adds_a_webhook_sends_a_test_and_reads_the_log(console, api, manager, receiver):  # noqa: F811
    from playwright.sync_api import expect

    page = console("/")
    log_on(page, "mia@example.com")
    page.evaluate("location.hash = '#/webhooks'")
    page.get_by_role("button", name="New webhook").click()
    dialog = page.get_by_role("dialog", name="New webhook")
    dialog.get_by_label("URL").fill(receiver.url)
    dialog.get_by_label("Description").fill("Our CRM")
    dialog.get_by_label("Chat closed").check()
    dialog.get_by_label("Message from a customer").check()
    dialog.get_by_role("button", name="Save").click()
    rows = page.get_by_role("table", name="Webhooks")
    expect(rows).to_contain_text("Our CRM")
    expect(rows).to_contain_text("Chat closed, Message from a customer")
    expect(rows).to_contain_text("Active")

    page.get_by_role("button", name=f"Send a test to {receiver.url}").click()
    expect(page.get_by_text("Test delivered: your URL answered 200.")).to_be_visible()
    secret = api.ok(api.get("GetWebhooks", manager))["Items"][0]["Secret"]
    [got] = receiver.received
    assert got.json["Type"] == "WebhookTest" and got.signature_valid(secret)

    page.get_by_role("button", name=f"Deliveries to {receiver.url}").click()
    log = page.get_by_role("table", name="Deliveries")
    expect(log).to_contain_text("WebhookTest")
    expect(log).to_contain_text("Delivered")
    shot(page, "manager-webhooks")

    receiver.down()
    page.get_by_role("button", name=f"Send a test to {receiver.url}").click()
    expect(page.get_by_text("Test failed: ConnectError")).to_be_visible()
