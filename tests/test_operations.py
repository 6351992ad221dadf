"""Operations endpoints: /healthz, /metrics and the interactive docs."""

import re
import time


class TestHealthz:
    def test_reports_ok_when_the_database_answers(self, api):
        response = api.http.get("/healthz")
        assert response.status_code == 200
        assert response.json()["Status"] == "ok"


def scrape(api) -> dict[str, float]:
    lines = api.http.get("/metrics").text.splitlines()
    return {name: float(value) for name, value in (line.rsplit(" ", 1) for line in lines if not line.startswith("#"))}


class TestMetrics:
    def test_counts_requests_by_route_and_status(self, api, manager):
        ok = 'agentchat_http_requests_total{method="GET",path="/api/GetDepartments",status="200"}'
        refused = 'agentchat_http_requests_total{method="GET",path="/api/GetDepartments",status="401"}'
        before = scrape(api)
        api.get("GetDepartments", manager)
        api.get("GetDepartments", manager)
        api.get("GetDepartments")
        after = scrape(api)
        assert after[ok] - before.get(ok, 0) == 2
        assert after[refused] - before.get(refused, 0) == 1

    def test_a_scrape_sees_only_itself_in_progress_once_the_others_are_done(self, api, manager):
        for _ in range(5):
            api.get("GetDepartments", manager)
        # A request's answer reaches the client a moment before the server is done with it.
        deadline = time.monotonic() + 5
        while (in_progress := scrape(api)["agentchat_http_requests_in_progress"]) != 1:
            assert in_progress > 1 and time.monotonic() < deadline, f"{in_progress} in progress"
            time.sleep(0.02)

    def test_gauges_show_agents_by_status(self, api, manager):
        assert scrape(api)['agentchat_agents{status_id="4"}'] == 1


class TestDocs:
    def test_docs_and_openapi_are_served(self, api):
        assert api.http.get("/docs").status_code == 200
        schema = api.http.get("/openapi.json").json()
        assert "/api/AgentLogon" in schema["paths"]

    def test_docs_and_redoc_load_everything_from_this_server(self, api):
        """Blank pages on a machine without internet, when they loaded Swagger UI and ReDoc from a CDN."""
        for page in ("/docs", "/redoc"):
            response = api.http.get(page)
            assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
            html = response.text
            assert not re.search(r"(https?:)?//[\w.-]+\.\w", html), f"{page} names another host"
            assets = re.findall(r'(?:src|href)="([^"]+)"', html)
            assert any(a.endswith(".js") for a in assets), f"{page} loads no script: {assets}"
            for asset in assets:
                loaded = api.http.get(asset)
                assert loaded.status_code == 200 and loaded.content, f"{page}: {asset} -> {loaded.status_code}"
        assert "SwaggerUIBundle" in api.http.get("/docs-assets/swagger-ui-bundle.js").text

