"""CloudWatch's errors. CloudWatch was a query-protocol service: its JSON answers carry the shape's name in
`__type` and the old query code in `x-amzn-query-error: <code>;Sender`, which botocore reports as the error
code (`InvalidParameterValue`, `MissingParameter`, ...) and maps to the modelled exception class."""

from __future__ import annotations

from watchkeeper.errors import AwsError


class CloudWatchError(AwsError):
    shape = "InvalidParameterValueException"  # `__type`; `code` is the query code botocore reports


class InvalidParameterValue(CloudWatchError):
    code = "InvalidParameterValue"
    shape = "InvalidParameterValueException"


class MissingParameter(CloudWatchError):
    code = "MissingParameter"
    shape = "MissingRequiredParameterException"


class InvalidParameterCombination(CloudWatchError):
    code = "InvalidParameterCombination"
    shape = "InvalidParameterCombinationException"


class InvalidNextToken(CloudWatchError):
    code = "InvalidNextToken"
    shape = "InvalidNextToken"


def invalid_value(value: object, parameter: str, why: str = "") -> InvalidParameterValue:
    """`The value X for parameter P is invalid.` as CloudWatch words it, with the reason when there is one."""
    return InvalidParameterValue(f"The value {value} for parameter {parameter} is invalid.{' ' + why if why else ''}")
