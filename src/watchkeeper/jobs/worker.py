"""`python -m watchkeeper.jobs.worker ROOT`: run the built-in analyzer for the job laid out under ROOT.

A separate process so that a timeout or StopProcessingJob can kill it, and a crash cannot take the server
down. The analyzer is the registry's choice for the job's image and analysis type
(`jobs.analyzers.registry`). Exit 0 on success, 255 on failure (as the analyzer container does); the
one-line message is in `ROOT/opt/ml/output/message` either way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from watchkeeper.jobs.analyzers.registry import run_environment
from watchkeeper.jobs.contract import CONFIG_FILE, MESSAGE_FILE, JobRoot
from watchkeeper.jobs.toolkit.job_log import JobLog
from watchkeeper.jobs.toolkit.summary import JobFailed, write_message


def main(argv: list[str]) -> int:
    root = JobRoot(Path(argv[0]))
    request = json.loads(root.local(CONFIG_FILE).read_text(encoding="utf-8"))
    environment = root.environment(request.get("Environment") or {})
    message_file = root.local(MESSAGE_FILE)
    try:
        run_environment(environment, image_uri=request["AppSpecification"]["ImageUri"], log=JobLog(),
                        message_file=message_file)
    except JobFailed:
        return 255  # the message file holds the reason
    except Exception as exc:  # an analyzer bug: still a clear, recorded failure
        write_message(message_file, f"{type(exc).__name__}: {exc}")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
