"""Debian's nginx on a free loopback port with deploy/nginx.conf's AgentChat site, in front of test instances."""

import os
import re
import subprocess
import time
from pathlib import Path

import httpx
from conftest import free_port
from pgbouncer import need_binary

DEPLOY_CONF = Path(__file__).resolve().parent.parent / "deploy" / "nginx.conf"


def site_for_test(ports: list[int], listen: int, logs: Path) -> str:
    """deploy/nginx.conf with these upstreams, plain HTTP on loopback instead of TLS, logs in `logs`; and the
    upstream that served each answer in X-Upstream (a test must know which instance holds a socket)."""
    site = DEPLOY_CONF.read_text()
    servers = "".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;\n" for port in ports)
    site = re.sub(r"(    server 127\.0\.0\.1:\d+ [^\n]*\n)+", servers, site, count=1)
    site = re.sub(r"server \{\n    listen 80;.*?\n\}\n", "", site, count=1, flags=re.S)
    site = site.replace("listen 443 ssl;", f"listen 127.0.0.1:{listen};").replace("    http2 on;\n", "")
    site = re.sub(r"    ssl_certificate[^\n]*\n", "", site)
    site = site.replace("/var/log/nginx/", f"{logs}/")
    return site.replace("    proxy_http_version 1.1;", "    proxy_http_version 1.1;\n"
                        "    add_header X-Upstream $upstream_addr always;")


class Nginx:
    def __init__(self, ports: list[int], folder: Path):
        binary = need_binary("/usr/sbin/nginx")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
        config = folder / "nginx.conf"
        user = "user nobody nogroup;\n" if os.geteuid() == 0 else ""
        config.write_text(f"""{user}worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
{site_for_test(ports, self.port, folder)}
}}
""")
        check = subprocess.run([binary, "-t", "-p", str(folder), "-c", str(config)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        self.process = subprocess.Popen([binary, "-p", str(folder), "-c", str(config), "-g", "daemon off;"],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while True:
            try:
                httpx.get(f"{self.base_url}/healthz", timeout=1)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"nginx did not start: {(folder / 'error.log').read_text()[-2000:]}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
