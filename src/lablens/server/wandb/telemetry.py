"""``POST /sdk/otel/v1/{signal}``: the W&B client's own usage telemetry (OpenTelemetry over HTTP),
answered with an empty success and not stored, so the client neither retries nor complains."""

from __future__ import annotations

from fastapi import APIRouter, Response

from lablens.server.routing import Route

router = APIRouter(tags=["wandb"], route_class=Route)


@router.post("/sdk/otel/v1/{signal}", include_in_schema=False)
def otel(signal: str) -> Response:
    """Accept and drop a telemetry export (an empty protobuf message is a full success)."""
    return Response(b"", media_type="application/x-protobuf")
