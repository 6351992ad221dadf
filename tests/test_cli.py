"""What a newcomer sees when `serve` starts on an empty database: a hint that works from their shell (where the venv
need not be active), and no log line that reads like an error."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import free_port

ROOT = Path(__file__).resolve().parents[1]
# A shell as a newcomer has it: the venv not activated, its `python` and `agentchat` not on PATH.
PLAIN_PATH = os.pathsep.join(p for p in ("/usr/local/bin", "/usr/bin", "/bin") if Path(p).is_dir())


@pytest.fixture(scope="module")
def output(tmp_path_factory) -> str:
    """serve's output until it is up, on a fresh SQLite database, started from the repository's root."""
    tmp_path = tmp_path_factory.mktemp("fresh")
    env = dict(os.environ, AGENTCHAT_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}",
               AGENTCHAT_DATA_DIR=str(tmp_path), AGENTCHAT_RUN_JOBS="false", AGENTCHAT_BROKER_URL="memory://")
    env.pop("AGENTCHAT_LOG_LEVEL", None)
    server = subprocess.Popen([sys.executable, "-m", "agentchat", "serve", "--port", str(free_port())], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []
    try:
        for line in server.stderr:
            lines.append(line)
            if "Uvicorn running on" in line or "Application startup complete" in line:
                break
    finally:
        server.terminate()
        server.wait(timeout=30)
    return "".join(lines)


def test_the_create_manager_hint_runs_from_a_shell_without_the_venv(output, tmp_path):
    hint = next(line for line in output.splitlines() if "create-manager" in line)
    command = hint.strip().split(" create-manager")[0]
    result = subprocess.run(f"{command} create-manager --help", shell=True, cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": PLAIN_PATH, "HOME": str(tmp_path)})
    assert result.returncode == 0, f"{hint.strip()!r} fails: {result.stderr}"
    assert "--email" in result.stdout


def test_a_normal_start_logs_nothing_that_reads_like_an_error(output):
    assert "AgentChat on http://" in output
    assert "Pool disposed" not in output and "Pool recreating" not in output, output
    assert " ERROR " not in output and " WARNING " not in output and "Traceback" not in output, output
