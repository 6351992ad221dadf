"""Auto-assignment options in the console: a manager picks round robin for a department and limits an agent's
WhatsApp chats."""

from chat_helpers import add_department
from conftest import add_agent
from test_console_browser import browser, console, log_on, one_backend, shot  # noqa: F401 (fixtures)


def test_manager_sets_round_robin_and_a_whatsapp_limit(console, api, manager, server):  # noqa: F811
    from playwright.sync_api import expect

    sales = add_department(server, "Sales", menu_option=1)
    ann = add_agent(server, name="Ann", department_ids=(sales,))
    page = console("/")
    log_on(page, "mia@example.com")
    page.evaluate("location.hash = '#/departments'")
    page.get_by_role("button", name="Edit Sales").click()
    dialog = page.get_by_role("dialog", name="Edit Sales")
    dialog.get_by_label("Assign queued chats automatically").check()
    dialog.get_by_label("Automatic assignment picks").select_option(label="Agents in turn (round robin)")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Department saved.")).to_be_visible()
    department = api.ok(api.get("GetDepartments", manager))["Items"][0]
    assert (department["RoutingEnabled"], department["RoutingStrategy"]) == (True, "RoundRobin")

    page.evaluate("location.hash = '#/agents'")
    page.get_by_role("button", name="Edit Ann").click()
    dialog = page.get_by_role("dialog", name="Edit Ann")
    dialog.get_by_label("Of which WhatsApp at most").fill("2")
    dialog.get_by_role("button", name="Save").click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    agent = next(a for a in api.ok(api.get("GetAgents", manager))["Items"] if a["AgentID"] == ann)
    assert agent["MaxChatsPerChannel"] == {"WhatsApp": 2}
    shot(page, "manager-assignment-options")
