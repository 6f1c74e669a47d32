"""AWS-shaped errors. Services raise these; the API turns them into `{"__type", "message"}` bodies.

AwsError (HTTP 400 unless stated)
 ├── ValidationError          ValidationException: bad input, and some "not found" cases AWS reports so
 ├── SerializationError       SerializationException: body is not JSON or a value has the wrong JSON type
 ├── UnknownOperation         UnknownOperationException: X-Amz-Target names no operation
 ├── ResourceNotFound         ResourceNotFound (no "Exception" suffix, as SageMaker's model declares)
 ├── ResourceInUse            ResourceInUse: duplicate name, or a resource still referenced
 ├── ResourceLimitExceeded    ResourceLimitExceeded: a quota
 ├── ConflictError            ConflictException
 └── InternalFailure          InternalFailure (HTTP 500): only real server faults
"""

from __future__ import annotations


class AwsError(Exception):
    code = "InternalFailure"
    status = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(AwsError):
    code = "ValidationException"


class SerializationError(AwsError):
    code = "SerializationException"


class UnknownOperation(AwsError):
    code = "UnknownOperationException"


class ResourceNotFound(AwsError):
    code = "ResourceNotFound"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


class ResourceLimitExceeded(AwsError):
    code = "ResourceLimitExceeded"


class ConflictError(AwsError):
    code = "ConflictException"


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500
