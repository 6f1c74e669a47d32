"""Model servers for AWS's two Clarify notebooks, serving the notebooks' own models under SageMaker's container
contract (GET /ping, POST /invocations), for the end-to-end tests:

- `linear-learner`: the adult-income binary classifier of `sm-clarify_model_bias_monitor_for_endpoint`, computed
  from its MXNet artifact with numpy (linear_learner.py, mxnet_params.py; formats in ll_container.py);
- `xgboost`: the churn model (XGBoost 0.90-1, binary:logistic) of
  `sm-model_monitor_bias_and_explainability_monitoring`, read from its legacy binary format (xgboost_legacy.py;
  formats in xgb_container.py).

Use: `create_app(model)` (an ASGI app), `start_model_server(model)` (a context manager yielding the base URL of a
server on loopback), or `python -m tests.notebook_models --model xgboost --port 8080`. The artifacts and data are
the copies in tests/fixtures/notebooks/ (their README.md files say where they came from).
"""

from tests.notebook_models.app import create_app
from tests.notebook_models.serving import start_model_server

__all__ = ["create_app", "start_model_server"]
