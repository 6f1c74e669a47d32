"""`python -m tests.notebook_models --model linear-learner|xgboost --port N [--batch]`"""

from __future__ import annotations

import argparse

import uvicorn

from tests.notebook_models.app import create_app
from tests.notebook_models.models import MODELS


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.notebook_models", description=__doc__)
    parser.add_argument("--model", choices=MODELS, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--batch", action="store_true", help="answer as batch transform does (XGBoost: a score a line)")
    args = parser.parse_args()
    uvicorn.run(create_app(args.model, args.batch), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
