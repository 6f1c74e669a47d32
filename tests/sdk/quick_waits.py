"""The SageMaker SDK's waits, shortened for the notebook drivers (tests/sdk, tests/sdk3, tests/clarify,
tests/transform), which run in the SDK's own venvs and import this with the repository on PYTHONPATH
(tests/sdk/test_sdk_flow.py's sdk_env).

The SDK sleeps 5-10 s between the polls of a job or a schedule, sized for AWS jobs of minutes: `_wait_until`
sleeps before its first look, `logs_for_processing_job` 10 s, then describes the job every 30 s of its clock.
Watchkeeper's jobs take a second or two, so most of the drivers' time went to those sleeps. `quick_sdk_waits`
gives the named SDK modules a `time` whose sleep lasts at most SLEEP_CAP seconds and whose clock then moves on
by the whole sleep: every interval and budget the SDK counts in its own time passes as the SDK intends, the
calls it makes and their order are the same; only the wall-clock wait is shorter.
"""

from __future__ import annotations

import importlib
import time as real_time
import types

SLEEP_CAP = 1.0

# Where the SDKs poll: 2.x (`sagemaker.session`'s waiters and log tailing, `sagemaker.utils.retries`) and 3.x
# (`sagemaker.core.common_utils._wait_until`, `sagemaker.core.processing`'s log tailing).
SDK2 = ("sagemaker.session", "sagemaker.utils")
SDK3 = ("sagemaker.core.common_utils", "sagemaker.core.processing")


class QuickTime(types.ModuleType):
    """The `time` module, but a sleep of more than SLEEP_CAP seconds lasts SLEEP_CAP and the clock (time(),
    monotonic()) moves on by the rest."""

    def __init__(self) -> None:
        super().__init__("time")
        self.skipped = 0.0

    def __getattr__(self, name: str) -> object:
        return getattr(real_time, name)

    def sleep(self, seconds: float) -> None:
        slept = min(seconds, SLEEP_CAP)
        real_time.sleep(slept)
        self.skipped += seconds - slept

    def time(self) -> float:
        return real_time.time() + self.skipped

    def monotonic(self) -> float:
        return real_time.monotonic() + self.skipped


def quick_sdk_waits(module_names: tuple[str, ...]) -> QuickTime:
    """Give each named module (imported if need be) one shared QuickTime as its `time`."""
    clock = QuickTime()
    for name in module_names:
        module = importlib.import_module(name)
        assert module.time is real_time, f"{name} has no `import time` to replace"
        module.time = clock
    return clock
