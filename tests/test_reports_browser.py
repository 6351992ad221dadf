"""The console's report download in a real browser (fixtures from test_console_browser.py): the CSV a manager
downloads is the readable one (labels, h:mm:ss beside the seconds); the machine CSV stays one choice away."""

from pathlib import Path

from chat_helpers import add_department, queued_chat
from test_console_browser import browser, console, go_to, log_on, one_backend  # noqa: F401, F811 (fixtures)


def test_manager_downloads_a_report_csv_a_person_can_read(console, api, manager, server):  # noqa: F811
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    chat = queued_chat(server, sales, phone="27820000001")
    api.ok(api.post("CloseChat", manager, {"ChatID": chat.chat_id}))
    page = console("/")
    log_on(page, "mia@example.com")
    go_to(page, "Reports")
    page.get_by_label("Report", exact=True).select_option("ChatSummary")
    expect(page.get_by_label("Format")).to_have_value("CSV")
    with page.expect_request(lambda r: "/api/GetReport?" in r.url) as request, page.expect_download() as download:
        page.get_by_role("button", name="Download", exact=True).click()
    assert "Readable=true" in request.value.url and "FileFormat=CSV" in request.value.url
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    header = text.splitlines()[0]
    assert header.startswith("Chat ID,Channel,Status,Department,Agent,")
    assert "Wait (h:mm:ss),Wait (seconds)" in header

    page.get_by_label("Format").select_option("RawCSV")
    with page.expect_request(lambda r: "/api/GetReport?" in r.url) as request, page.expect_download() as download:
        page.get_by_role("button", name="Download", exact=True).click()
    assert "Readable" not in request.value.url
    assert Path(download.value.path()).read_text().startswith("ChatID,Channel,Status,Department,Agent,CreatedAt,")
