"""Who is asking: the account and region every resource is scoped to."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    account: str
    region: str

    def arn(self, resource_type: str, name: str) -> str:
        # AWS lower-cases the resource name inside SageMaker ARNs (spec §1.1).
        return f"arn:aws:sagemaker:{self.region}:{self.account}:{resource_type}/{name.lower()}"
