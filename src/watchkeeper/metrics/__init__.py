"""CloudWatch metrics: the store (series and points), PutMetricData's rules, queries (ListMetrics,
GetMetricStatistics, GetMetricData) and the ingestion of monitoring executions' metric lines."""
