"""`SageMakerClarifyProcessor.run_*` against Watchkeeper, as the Clarify docs call them, on the adult notebook's data
with its linear-learner model. Runs in `.venv-sdk` (started by tests/clarify/test_notebooks.py); prints one JSON
report: each run's analysis.json."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from pathlib import Path
from typing import Any

import sagemaker
from notebook_adult_bias import ALL_HEADERS, REGION, ROLE, session
from sagemaker import clarify

from tests.sdk.quick_waits import SDK2, quick_sdk_waits


def run(args: argparse.Namespace) -> dict[str, Any]:
    sagemaker_session = session(args.sagemaker_url, args.bucket)
    bucket = sagemaker_session.default_bucket()
    data = Path(args.data)
    model_data = sagemaker.s3.S3Uploader.upload(str(data / "ll-adult-prediction-model.tar.gz"), f"s3://{bucket}/m",
                                                sagemaker_session=sagemaker_session)
    model_name = "adult-ll"
    sagemaker_session.create_model(model_name, ROLE, {
        "Image": sagemaker.image_uris.retrieve("linear-learner", REGION, "1"), "ModelDataUrl": model_data,
        "Environment": {"WATCHKEEPER_UPSTREAM_URL": args.model_url}})
    processor = clarify.SageMakerClarifyProcessor(role=ROLE, instance_count=1, instance_type="ml.c5.xlarge",
                                                  sagemaker_session=sagemaker_session)
    dataset = sagemaker.s3.S3Uploader.upload(str(data / "validation-dataset.jsonl"), f"s3://{bucket}/data",
                                             sagemaker_session=sagemaker_session)

    def data_config(name: str) -> clarify.DataConfig:
        return clarify.DataConfig(s3_data_input_path=dataset, s3_output_path=f"s3://{bucket}/out/{name}",
                                  features="features", label="label", headers=ALL_HEADERS,
                                  dataset_type="application/jsonlines")

    bias_config = clarify.BiasConfig(label_values_or_threshold=[1], facet_name="Sex",
                                     facet_values_or_threshold=[0], group_name="Age")
    model_config = clarify.ModelConfig(model_name=model_name, instance_type="ml.m5.xlarge", instance_count=1,
                                       content_type="application/jsonlines", accept_type="application/jsonlines",
                                       content_template='{"features":$features}')
    predicted = clarify.ModelPredictedLabelConfig(label="predicted_label")
    processor.run_pre_training_bias(data_config("pre"), bias_config, methods="all", wait=True, logs=False)
    processor.run_post_training_bias(data_config("post"), bias_config, model_config, predicted, methods="all",
                                     wait=True, logs=False)
    processor.run_bias(data_config("bias"), bias_config, model_config, predicted, wait=True, logs=False)
    shap = clarify.SHAPConfig(baseline=[[39, 2, 184870, 10, 10, 3, 6, 1, 4, 1, 1597, 61, 41, 37]], num_samples=100,
                              agg_method="mean_abs", seed=0)
    # As AWS's explainability baseline was made: JSON requests (JSON Lines answers cut the score's digits).
    json_model = clarify.ModelConfig(model_name=model_name, instance_type="ml.m5.xlarge", instance_count=1,
                                     content_type="application/json", accept_type="application/json",
                                     content_template='{"instances":$records}',
                                     record_template='{"features":$features}')
    processor.run_explainability(data_config("shap"), json_model, shap,
                                 model_scores=clarify.ModelPredictedLabelConfig(probability="score"), wait=True,
                                 logs=False)
    return {name: json.loads(sagemaker.s3.S3Downloader.read_file(f"s3://{bucket}/out/{name}/analysis.json",
                                                                 sagemaker_session=sagemaker_session))
            for name in ("pre", "post", "bias", "shap")}


def main() -> None:
    quick_sdk_waits(SDK2)  # the SDK's 5-10 s poll sleeps, shortened (tests/sdk/quick_waits.py)
    parser = argparse.ArgumentParser()
    parser.add_argument("--sagemaker-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--model-url", required=True)
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    try:
        report = run(args)
    except Exception:
        traceback.print_exc()
        sys.exit(1)
    print("\n" + json.dumps(report, default=str))


if __name__ == "__main__":
    main()
