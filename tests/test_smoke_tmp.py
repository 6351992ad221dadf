def test_logon(api, manager):
    r = api.get("GetAgents", manager)
    assert r.status_code == 200, r.text
    assert r.json()["Total"] == 1
