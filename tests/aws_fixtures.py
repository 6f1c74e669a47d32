"""Where the AWS artifacts the parity tests compare against live: inside the repository (tests/fixtures/aws/,
provenance and licence in its README). A missing file is an error, never a skip."""

from __future__ import annotations

from pathlib import Path

AWS_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "aws"


def aws_fixture(*parts: str) -> Path:
    path = AWS_FIXTURES.joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"AWS fixture {path} is missing: the parity tests need tests/fixtures/aws/ whole")
    return path
