"""Run in the SDK's venv: print the analysis_config.json the SageMaker SDK writes for an explainability job
(the adult notebook's settings), so the parser is checked against the real producer of these files."""

import json

from sagemaker import clarify

HEADERS = ["Age", "Workclass", "fnlwgt", "Education", "Education-Num", "Marital Status", "Occupation",
           "Relationship", "Ethnic group", "Sex", "Capital Gain", "Capital Loss", "Hours per week", "Country"]
data = clarify.DataConfig(s3_data_input_path="s3://bucket/in", s3_output_path="s3://bucket/out",
                          features="features", headers=[*HEADERS, "Target"], label="label",
                          dataset_type="application/jsonlines")
model = clarify.ModelConfig(model_name="ll-adult", instance_type="ml.m5.xlarge", instance_count=1,
                            content_type="application/jsonlines", accept_type="application/jsonlines",
                            content_template='{"features":$features}')
label = clarify.ModelPredictedLabelConfig(probability="score")
shap = clarify.SHAPConfig(baseline=[[39, 2, 184870, 10, 10, 3, 6, 1, 4, 1, 1597, 61, 41, 37]], num_samples=100,
                          agg_method="mean_abs", save_local_shap_values=False, seed=123,
                          features_to_explain=["Age", 4])
clustered = clarify.SHAPConfig(num_clusters=3, use_logit=True)
generate = clarify._AnalysisConfigGenerator.explainability
print(json.dumps([generate(data, model, label, shap), generate(data, model, label, clustered)]))
