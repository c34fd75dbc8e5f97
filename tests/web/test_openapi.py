"""The OpenAPI schema, fuzzed in-process by schemathesis: no 5xx, and every answer as documented.

Outbound HTTP cannot leave the machine while it runs: subscription URLs go through the SSRF guard
with the default settings (private, loopback and link-local targets refused at creation), the app's
test pings go through `loopback_only_ping`, which refuses any target but loopback without a look-up,
and under all that the test process refuses non-loopback look-ups and connections (tests/conftest.py).
A generated URL is never contacted."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from alerts.policy import AttemptResult
from alerts.sending import PingResult, send_test
from alerts.signing import new_webhook_id
from alerts.subscriptions import get_subscription
from tests.conftest import _is_loopback
from tests.web.conftest import NOW, TOKEN, WRITE
from timeline.service import Service
from timeline.settings import load_settings
from timeline.web.app import create_app

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture
def fuzzed_app(sqlite_engine, config_dir):
    """An app over SQLite (the fuzzing is about the HTTP layer; storage has its own tests)."""
    url = sqlite_engine.url.render_as_string(hide_password=False)
    settings = load_settings(database_url=url, config_dir=config_dir, api_token=TOKEN)
    service = Service(settings, engine=sqlite_engine)
    service.reload_config(NOW, force=True)
    return create_app(settings, service=service, send_ping=loopback_only_ping)


async def loopback_only_ping(engine, config, subscription_id):
    """Test pings through a transport that refuses everything but loopback, before any look-up."""
    with engine.connect() as conn:
        url = get_subscription(conn, subscription_id).url
    if _is_loopback(urlsplit(url).hostname or ""):
        return await send_test(engine, config, subscription_id)
    return PingResult(new_webhook_id(), AttemptResult(None, 0.0, error=f"refused by the test transport: {url}"))


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(fuzzed_app, mode):
    # schemathesis' pytest plugin does not run on pytest 9; each operation gets its own hypothesis run.
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=25 if mode is GenerationMode.POSITIVE else 10,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case):
            case.call_and_validate(headers=WRITE, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # An operation that takes no input cannot be given invalid input.
            assert mode is GenerationMode.NEGATIVE


def test_the_schema_documents_every_route_with_examples(make_client):
    spec = make_client().get("/openapi.json").json()
    paths = spec["paths"]
    for path in (
        "/api/milestones",
        "/api/milestones/{milestone_id}",
        "/api/timeline",
        "/api/notices",
        "/api/feeds",
        "/api/subscriptions",
        "/api/subscriptions/{subscription_id}/test",
        "/api/subscriptions/{subscription_id}/rotate-secret",
        "/api/subscriptions/{subscription_id}/recover",
        "/api/deliveries",
        "/api/deliveries/{delivery_id}",
        "/api/deliveries/{delivery_id}/retry",
        "/timeline.ics",
        "/notices.atom",
        "/",
        "/healthz",
        "/readyz",
        "/metrics",
    ):
        assert path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            assert operation.get("tags"), f"{method} {path} has no tag"
    schemas = spec["components"]["schemas"]
    for name in ("MilestoneOut", "MilestoneIn", "ErrorBody", "NoticeOut", "SubscriptionIn", "DeliveryOut", "FeedOut"):
        assert schemas[name].get("examples"), name


def test_the_webhooks_section_lists_every_notice_type_with_its_payload_and_signature(make_client):
    from timeline.metrics import NOTICE_TYPES

    spec = make_client().get("/openapi.json").json()
    assert spec["openapi"].startswith("3.1")
    assert set(spec["webhooks"]) == set(NOTICE_TYPES)
    schemas = spec["components"]["schemas"]
    for notice_type, item in spec["webhooks"].items():
        operation = item["post"]
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header" and p["required"]}
        assert headers == {"webhook-id", "webhook-timestamp", "webhook-signature"}, notice_type
        assert set(operation["responses"]) == {"200"}
        ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
        payload = schemas[ref.rsplit("/", 1)[-1]]
        assert payload["properties"]["type"]["const"] == notice_type
        assert set(payload["required"]) >= {"type", "timestamp", "data"}
        data = schemas[payload["properties"]["data"]["$ref"].rsplit("/", 1)[-1]]
        assert "message" in data["properties"], notice_type
    rescheduled = spec["webhooks"]["milestone.rescheduled"]["post"]["requestBody"]["content"]["application/json"]
    data_ref = schemas[rescheduled["schema"]["$ref"].rsplit("/", 1)[-1]]["properties"]["data"]["$ref"]
    assert {"slip_days", "direction", "previous_window"} <= set(schemas[data_ref.rsplit("/", 1)[-1]]["required"])
