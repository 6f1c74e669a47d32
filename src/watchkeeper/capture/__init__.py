"""SageMaker data capture: record format, writer, reader, ASGI middleware and ground truth."""
