"""`python -m watchkeeper.jobs.worker ROOT`: run the built-in analyzer for the job laid out under ROOT.

A separate process so that a timeout or StopProcessingJob can kill it, and a crash cannot take the server
down. Exit 0 on success, 255 on failure (as the analyzer container does); the one-line message is in
`ROOT/opt/ml/output/message` either way.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from watchkeeper.jobs.contract import CONFIG_FILE, MESSAGE_FILE, JobRoot, is_merge_image
from watchkeeper.jobs.ground_truth_merge import merge


def main(argv: list[str]) -> int:
    root = JobRoot(Path(argv[0]))
    request = json.loads(root.local(CONFIG_FILE).read_text(encoding="utf-8"))
    environment = root.environment(request.get("Environment") or {})
    from watchkeeper.jobs.builtin import JobFailed, JobLog, run_environment

    log = JobLog()
    message_file = root.local(MESSAGE_FILE)
    try:
        if is_merge_image(request["AppSpecification"]["ImageUri"]):
            summary = merge(
                environment["dataset_source"],
                environment["ground_truth_source"],
                environment["output_path"],
                start_time=environment.get("start_time"),
                end_time=environment.get("end_time"),
                log=log,
            )
            message_file.parent.mkdir(parents=True, exist_ok=True)
            message_file.write_text(summary.message, encoding="utf-8")
        else:
            run_environment(environment, log=log, message_file=message_file)
    except JobFailed as error:
        message_file.parent.mkdir(parents=True, exist_ok=True)
        if not message_file.exists():
            message_file.write_text(str(error)[:1024], encoding="utf-8")
        return 255
    except Exception as exc:  # an analyzer bug: still a clear, recorded failure
        root.local(MESSAGE_FILE).parent.mkdir(parents=True, exist_ok=True)
        root.local(MESSAGE_FILE).write_text(f"{type(exc).__name__}: {exc}"[:1024], encoding="utf-8")
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
