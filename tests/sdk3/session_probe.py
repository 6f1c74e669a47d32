"""What an untouched notebook's first cells do, run in an SDK venv by tests/sdk3/test_notebook_session.py.

`python session_probe.py 2|3`: `sagemaker.Session()` (2.x) or `sagemaker.core.helper.session_helper.Session()`
(3.x) with no argument, its default bucket, an upload, a SageMaker call, and `get_execution_role()`; one JSON
line on stdout with what each gave (or the exception's type and message).
"""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any


def attempt(call: Any) -> Any:
    try:
        return {"ok": call()}
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {str(exc)[:300]}"}


def main() -> None:
    out = sys.stdout
    with contextlib.redirect_stdout(sys.stderr):
        if sys.argv[1] == "2":
            import sagemaker

            session_class, get_role = sagemaker.Session, sagemaker.get_execution_role
        else:
            from sagemaker.core.helper.session_helper import Session, get_execution_role

            session_class, get_role = Session, get_execution_role
        session = session_class()
        result = {
            "region": session.boto_region_name,
            "sagemaker_url": session.sagemaker_client.meta.endpoint_url,
            "bucket": attempt(session.default_bucket),
            "upload": attempt(lambda: session.upload_data(__file__, key_prefix="notebook/code")),
            "schedules": attempt(
                lambda: len(session.sagemaker_client.list_monitoring_schedules()["MonitoringScheduleSummaries"])
            ),
            "role": attempt(lambda: get_role(session)),
        }
    out.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
