"""Random requests never produce a 500: every answer is a success or a Twilio 4xx."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.api.helpers import ERROR_KEYS, create_flow

FIELDS = ["FriendlyName", "Status", "Definition", "CommitMessage", "AuthorSid", "To", "From",
          "Parameters", "TestUsers", "PageSize", "Page", "PageToken", "status",
          "DateCreatedFrom", "DateCreatedTo"]  # fmt: skip
VALUES = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["draft", "published", "active", "ended", "{}", "[]", "null", "1e999",
                     '{"states": 1}', '{"states": [{}]}', "2024-01-01", "-1", "0", "1001"]),
)  # fmt: skip
PAIRS = st.lists(st.tuples(st.sampled_from(FIELDS), VALUES), max_size=6)
SEGMENTS = st.lists(
    st.one_of(
        st.sampled_from(["Flows", "Executions", "Steps", "Context", "Revisions", "TestUsers",
                         "Validate", "LatestPublished", "{FW}", "{FN}", "{FT}"]),
        st.text(min_size=1, max_size=12),
    ),
    max_size=6,
)  # fmt: skip
SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _check(r: object) -> None:
    status = r.status_code  # type: ignore[attr-defined]
    assert status < 500, r.text  # type: ignore[attr-defined]
    if status >= 400:
        assert set(r.json()) >= ERROR_KEYS  # type: ignore[attr-defined]


@SETTINGS
@given(method=st.sampled_from(["GET", "POST", "DELETE"]), segments=SEGMENTS, pairs=PAIRS)
def test_random_requests_never_fail_with_500(
    client: TestClient, method: str, segments: list[str], pairs: list[tuple[str, str]]
) -> None:
    if not hasattr(client, "_seeded"):
        flow = create_flow(client)
        ex = client.post(
            f"/v2/Flows/{flow['sid']}/Executions", data={"To": "+1555", "From": "+1666"}
        ).json()
        step = client.get(f"/v2/Flows/{flow['sid']}/Executions/{ex['sid']}/Steps").json()
        client._seeded = {  # type: ignore[attr-defined]
            "{FW}": flow["sid"],
            "{FN}": ex["sid"],
            "{FT}": step["steps"][0]["sid"],
        }
    known: dict[str, str] = client._seeded  # type: ignore[attr-defined]
    path = "/v2/" + "/".join(quote(known.get(s, s), safe="") for s in segments)
    if method == "POST":
        r = client.post(
            path,
            content=urlencode(pairs),
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    else:
        r = client.request(method, path, params=pairs)
    _check(r)
