"""An S3 API over the embedded object store (docs/s3.md): what boto3's `s3` client, the SageMaker SDK and
AWS's notebooks use, on Watchkeeper's own port. Objects written here are the files the analyzer reads."""
