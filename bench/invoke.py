"""InvokeEndpoint overhead: invocations/s and p50/p99 latency through Watchkeeper against calling the model
server directly, with capture on and off. Loopback only; bounded in time.

    .venv/bin/python bench/invoke.py [--clients 2] [--seconds 8]
"""

from __future__ import annotations

import argparse
import http.client
import multiprocessing as mp
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.endpoint_helpers import capture_config, deploy
from tests.server_process import ServerProcess, free_port

BODY = b"10,1,200,3"


def _client(port: int, path: str, seconds: float, queue: mp.Queue) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port)
    headers = {"Content-Type": "text/csv"}
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        conn.request("POST", path, body=BODY, headers=headers)
        response = conn.getresponse()
        response.read()
        latencies.append((time.perf_counter() - started) * 1000)
        errors += response.status != 200
    queue.put((latencies, errors))


def drive(port: int, path: str, clients: int, seconds: float) -> dict[str, float]:
    queue: mp.Queue = mp.Queue()
    processes = [mp.Process(target=_client, args=(port, path, seconds, queue)) for _ in range(clients)]
    started = time.perf_counter()
    for process in processes:
        process.start()
    results = [queue.get(timeout=seconds + 60) for _ in processes]
    for process in processes:
        process.join()
    elapsed = time.perf_counter() - started
    latencies = [x for r in results for x in r[0]]
    cuts = statistics.quantiles(latencies, n=100)
    return {"rps": len(latencies) / elapsed, "p50": cuts[49], "p99": cuts[98], "errors": sum(r[1] for r in results)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seconds", type=float, default=8)
    args = parser.parse_args()
    model_port = free_port()
    model = subprocess.Popen([sys.executable, "-m", "tests.model_server", "--port", str(model_port)])
    model_url = f"http://127.0.0.1:{model_port}"
    with tempfile.TemporaryDirectory() as data_dir:
        server = ServerProcess(Path(data_dir), env={"WATCHKEEPER_ENDPOINT_STARTUP_SECONDS": "10"})
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{model_url}/ping").status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            server.start()
            sm = server.client()
            deploy(sm, "with-capture", model_url, capture=capture_config("s3://bench/capture"))
            deploy(sm, "no-capture", model_url)
            runs = {
                "direct to the model server": (model_port, "/invocations"),
                "through Watchkeeper, capture off": (server.port, "/endpoints/no-capture/invocations"),
                "through Watchkeeper, capture on": (server.port, "/endpoints/with-capture/invocations"),
            }
            results = {}
            for label, (port, path) in runs.items():
                results[label] = drive(port, path, args.clients, args.seconds)
                r = results[label]
                print(
                    f"{label:34s} {r['rps']:7.0f} inv/s  p50 {r['p50']:.2f} ms  p99 {r['p99']:.2f} ms  "
                    f"errors {r['errors']}",
                    flush=True,
                )
            direct = results["direct to the model server"]
            off, on = results["through Watchkeeper, capture off"], results["through Watchkeeper, capture on"]
            print(
                f"added p50: {off['p50'] - direct['p50']:.2f} ms (capture off), "
                f"{on['p50'] - direct['p50']:.2f} ms (capture on); "
                f"capture costs {100 * (1 - on['rps'] / off['rps']):.1f}% of throughput",
                flush=True,
            )
        finally:
            server.stop()
            model.terminate()
            model.wait(timeout=10)


if __name__ == "__main__":
    main()
