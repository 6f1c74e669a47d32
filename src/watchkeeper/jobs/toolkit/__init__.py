"""What every built-in analyzer job shares: dataset formats (`formats`), the job log (`job_log`), reading
inputs (`inputs`, `labelled`), JSON documents given to a job (`documents`), script hosting (`scripts`) and the
job's summary, messages and output files (`summary`). Nothing here knows one analyzer from another."""
