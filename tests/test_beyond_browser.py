"""The console's screens for issue 23's features in a real browser (fixtures from test_console_browser.py): the
audit log; internal notes and mentions; search."""

from conftest import add_agent
from test_console_browser import browser, console, go_to, log_on, one_backend, shot  # noqa: F401, F811 (fixtures)

from agentchat.agents.models import ROLE_MANAGER


def test_manager_reads_and_filters_the_audit_log_and_sees_new_entries_live(console, api, server):  # noqa: F811
    from playwright.sync_api import expect

    add_agent(server, name="Mia Manager", email="mia@example.com", role_id=ROLE_MANAGER)
    add_agent(server, name="Ann", email="ann@example.com")
    api.post("AgentLogon", json={"EmailAddress": "ann@example.com", "Password": "not her password"})
    page = console("/")
    log_on(page, "mia@example.com")
    go_to(page, "Audit log")
    entries = page.get_by_role("table", name="Audit log")
    expect(entries).to_contain_text("AgentLogonFailed")
    expect(entries).to_contain_text("ann@example.com")
    expect(entries).not_to_contain_text("not her password")
    # A change made elsewhere arrives on the open page.
    mia = api.logon("mia@example.com")
    api.ok(api.post("UpdateSettings", mia, {"Settings": [{"CompanyName": "Channel"}]}))
    expect(entries).to_contain_text("SettingsUpdated")
    page.get_by_label("Action").select_option("AgentLogonFailed")
    page.get_by_role("button", name="Show").click()
    expect(entries).not_to_contain_text("SettingsUpdated")
    expect(entries).to_contain_text("AgentLogonFailed")
    shot(page, "manager-audit-log")
    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    assert download.value.suggested_filename == "audit-log.csv"
