"""docs/notebooks.md's claim, run: with `AWS_ENDPOINT_URL` at Watchkeeper and an SDK config file naming
`DefaultS3Bucket` (and `TelemetryOptOut`), a notebook's untouched `sagemaker.Session()` works against
Watchkeeper alone, in the SDK 2.x and 3.x alike: its default bucket is the configured one (no STS call), an
upload lands in Watchkeeper's own store, and SageMaker calls reach Watchkeeper. Without the file the default
bucket needs STS, and `get_execution_role()` needs IAM or STS either way: the two edits the page lists.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server_process import ServerProcess

REPO = Path(__file__).resolve().parents[2]
PROBE = Path(__file__).resolve().parent / "session_probe.py"
VENVS = {"2": REPO / ".venv-sdk" / "bin" / "python", "3": REPO / ".venv-sdk3" / "bin" / "python"}
CONFIG = """SchemaVersion: '1.0'
SageMaker:
  PythonSDK:
    Modules:
      TelemetryOptOut: true
      Session:
        DefaultS3Bucket: notebook-bucket
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("notebook-session")).start()
    yield process
    process.stop()


def probe(version: str, server: ServerProcess, tmp: Path, config: str | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAGEMAKER_"))}
    env |= {
        "AWS_ENDPOINT_URL": server.url,
        "AWS_ACCESS_KEY_ID": "notebook",
        "AWS_SECRET_ACCESS_KEY": "notebook",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
    }
    if config is not None:
        path = tmp / "sagemaker-config.yaml"
        path.write_text(config)
        env["SAGEMAKER_USER_CONFIG_OVERRIDE"] = str(path)
    done = subprocess.run(
        [str(VENVS[version]), str(PROBE), version], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("version", ["2", "3"])
def test_untouched_session_against_watchkeeper_alone(version: str, server: ServerProcess, tmp_path: Path) -> None:
    if not VENVS[version].exists():
        pytest.skip(f"{VENVS[version]} is missing: run `make test`, which builds it")
    seen = probe(version, server, tmp_path, CONFIG)
    assert seen["region"] == "us-east-1" and seen["sagemaker_url"] == server.url
    assert seen["bucket"] == {"ok": "notebook-bucket"}
    assert seen["upload"] == {"ok": "s3://notebook-bucket/notebook/code/session_probe.py"}
    stored = server.data_dir / "s3" / "notebook-bucket" / "notebook" / "code" / "session_probe.py"
    assert stored.read_bytes() == PROBE.read_bytes()
    assert "ok" in seen["schedules"]
    assert "error" in seen["role"]  # outside SageMaker it asks IAM/STS: notebooks name the role's full ARN


    if version == "3":  # one SDK is enough to show the file is what makes the difference (each probe costs ~15 s)
        without = probe(version, server, tmp_path, None)
        assert "error" in without["bucket"]  # the SDK names a bucket after the account, which it asks STS for
