from tests.s3_server import s3_endpoint  # noqa: F401 - the fixture
