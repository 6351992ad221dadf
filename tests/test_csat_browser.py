"""CSAT in the console: a manager turns it on for a department, and the dashboard shows the customers' ratings
per agent once a WhatsApp customer has rated a chat."""

from test_console_browser import browser, console, log_on, one_backend, shot  # noqa: F401 (fixtures)
from test_csat import support, tap, whatsapp_chat_closed  # noqa: F401 (fixture)


def test_manager_turns_csat_on_and_reads_the_ratings(console, api, manager, server, graph_api, support):  # noqa: F811
    from playwright.sync_api import expect

    page = console("/")
    log_on(page, "mia@example.com")
    page.evaluate("location.hash = '#/departments'")
    page.get_by_role("button", name="Edit Sales").click()
    dialog = page.get_by_role("dialog", name="Edit Sales")
    dialog.get_by_label("Ask customers to rate closed chats (CSAT)").check()
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Department saved.")).to_be_visible()
    sales = next(d for d in api.ok(api.get("GetDepartments", manager))["Items"] if d["Name"] == "Sales")
    assert sales["CsatEnabled"] is True

    chat_id = whatsapp_chat_closed(server, api, graph_api, support, department="Sales")
    tap(server, chat_id, 5)
    page.evaluate("location.hash = '#/dashboard'")
    expect(page.get_by_text("Customer satisfaction: 5.0 out of 5 from 1 ratings; 100 % rated 4 or 5.")).to_be_visible()
    expect(page.get_by_role("table", name="Per agent")).to_contain_text("5.0 / 5 (1)")
    shot(page, "manager-dashboard-csat")
