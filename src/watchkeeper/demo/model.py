"""The demo's model: a fixed logistic regression over five columns, served under SageMaker's container contract.

`GET /ping` answers 200; `POST /invocations` takes CSV rows (`age,monthly_charges,tenure_months,support_calls,
plan`) and answers one churn probability per line, as SageMaker's built-in XGBoost does. The server is the
standard library's, in a daemon thread: the demo needs nothing but Watchkeeper's own dependencies.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

FEATURES = ("age", "monthly_charges", "tenure_months", "support_calls", "plan")
PLANS = ("basic", "plus", "pro")
# Standardisation and weights of the numeric columns, then each plan's offset: a model someone trained once.
CENTRE = np.array([42.0, 65.0, 30.0, 1.5])
SCALE = np.array([12.0, 30.0, 20.0, 1.2])
WEIGHTS = np.array([-0.3, 0.9, -1.1, 0.8])
PLAN_OFFSET = np.array([0.4, -0.2, -0.9])
INTERCEPT = -1.0


def parse_rows(text: str) -> tuple[np.ndarray, np.ndarray]:
    """CSV rows → (numeric columns as an n-by-4 array, plan index per row)."""
    lines = [line for line in text.splitlines() if line.strip()]
    cells = np.array([line.split(",") for line in lines], dtype=object).reshape(len(lines), len(FEATURES))
    numeric = cells[:, :4].astype(float)
    plan_of = {p: i for i, p in enumerate(PLANS)}
    plans = np.array([plan_of.get(str(p).strip(), 0) for p in cells[:, 4]], dtype=int)
    return numeric, plans


def predict(numeric: np.ndarray, plans: np.ndarray) -> np.ndarray:
    score = ((numeric - CENTRE) / SCALE) @ WEIGHTS + PLAN_OFFSET[plans] + INTERCEPT
    return 1.0 / (1.0 + np.exp(-score))


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self._answer(200 if self.path == "/ping" else 404, b"")

    def do_POST(self) -> None:
        if self.path != "/invocations":
            self._answer(404, b"")
            return
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        try:
            probabilities = predict(*parse_rows(body))
        except (ValueError, IndexError) as exc:
            self._answer(400, f"cannot read the CSV rows: {exc}".encode())
            return
        self._answer(200, "\n".join(f"{p:.6f}" for p in probabilities).encode(), "text/csv")

    def _answer(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # quiet: the demo prints its own story
        pass


class ModelServer:
    """The model on 127.0.0.1 at a free port, until stop()."""

    def __init__(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, name="demo-model", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> ModelServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
