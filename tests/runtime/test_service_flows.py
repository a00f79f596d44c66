"""Flows and revisions: draft/published, validity, revision rules, paging, isolation."""

from __future__ import annotations

from typing import Any

import pytest

from callboard.runtime.records import (
    Account,
    InvalidDefinition,
    InvalidParameter,
    NotFound,
)
from callboard.runtime.service import Callboard
from tests.runtime.conftest import send_flow

BROKEN: dict[str, Any] = {"initial_state": "Nowhere", "states": []}


def test_create_published_flow(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid,
        friendly_name="Hello",
        status="published",
        definition=send_flow(),
        commit_message="first",
    )
    assert flow.sid.startswith("FW") and flow.account_sid == account.sid
    assert (flow.status, flow.revision, flow.valid, flow.errors) == ("published", 1, True, [])
    assert flow.definition == send_flow() and flow.commit_message == "first"
    assert flow.webhook_path == f"/v1/Accounts/{account.sid}/Flows/{flow.sid}"
    assert service.fetch_flow(account.sid, flow.sid) == flow


def test_invalid_draft_is_stored_with_errors(service: Callboard, account: Account) -> None:
    flow = service.create_flow(account.sid, friendly_name="x", status="draft", definition=BROKEN)
    assert flow.valid is False and flow.errors
    assert all({"property_path", "message"} <= set(e) for e in flow.errors)
    assert flow.definition == BROKEN  # kept as given


def test_invalid_definition_cannot_be_published(service: Callboard, account: Account) -> None:
    with pytest.raises(InvalidDefinition) as caught:
        service.create_flow(account.sid, friendly_name="x", status="published", definition=BROKEN)
    assert caught.value.status == 400 and caught.value.code == 81022
    assert caught.value.details and caught.value.details["errors"]
    assert service.list_flows(account.sid).items == []  # nothing stored
    draft = service.create_flow(account.sid, friendly_name="x", status="draft", definition=BROKEN)
    with pytest.raises(InvalidDefinition):
        service.update_flow(account.sid, draft.sid, status="published")
    assert service.fetch_flow(account.sid, draft.sid).revision == 1


@pytest.mark.parametrize("status", ["", "live", "Published"])
def test_status_must_be_draft_or_published(
    service: Callboard, account: Account, status: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        service.create_flow(account.sid, friendly_name="x", status=status, definition=send_flow())
    assert caught.value.param == "Status"


def test_every_definition_change_is_a_new_revision(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="draft", definition=send_flow()
    )
    same = service.update_flow(account.sid, flow.sid, status="draft", definition=send_flow())
    assert same.revision == 1  # unchanged definition, unchanged status: no new revision
    renamed = service.update_flow(account.sid, flow.sid, status="draft", friendly_name="g")
    assert (renamed.revision, renamed.friendly_name) == (2, "g")  # a rename is a revision
    assert renamed.definition == send_flow()  # ... copying the definition
    assert service.fetch_revision(account.sid, flow.sid, "1").friendly_name == "f"
    again = service.update_flow(account.sid, flow.sid, status="draft", friendly_name="g")
    assert again.revision == 2  # the same name again changes nothing
    changed = service.update_flow(
        account.sid, flow.sid, status="draft", definition=send_flow("v2"), commit_message="c2"
    )
    assert (changed.revision, changed.status, changed.commit_message) == (3, "draft", "c2")
    published = service.update_flow(account.sid, flow.sid, status="published")
    assert (published.revision, published.status) == (4, "published")
    assert published.definition == send_flow("v2")  # the status change copies the definition
    draft = service.update_flow(account.sid, flow.sid, status="draft", definition=send_flow("v4"))
    assert draft.revision == 5 and draft.status == "draft"
    latest_pub = service.fetch_revision(account.sid, flow.sid, "LatestPublished")
    latest = service.fetch_revision(account.sid, flow.sid, "LatestRevision")
    assert (latest_pub.revision, latest_pub.status) == (4, "published")
    assert (latest.revision, latest.definition) == (5, send_flow("v4"))
    assert service.fetch_revision(account.sid, flow.sid, "1").definition == send_flow()


@pytest.mark.parametrize("revision", ["0", "9", "latest", "-1", "1.0", "LatestPublished"])
def test_unknown_revisions_are_not_found(
    service: Callboard, account: Account, revision: str
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="draft", definition=send_flow()
    )
    with pytest.raises(NotFound):  # LatestPublished: never published
        service.fetch_revision(account.sid, flow.sid, revision)


def test_revisions_list_newest_first_with_pages(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="draft", definition=send_flow()
    )
    for i in range(2, 6):
        service.update_flow(account.sid, flow.sid, status="draft", definition=send_flow(f"v{i}"))
    first = service.list_revisions(account.sid, flow.sid, page_size=2)
    assert [r.revision for r in first.items] == [5, 4]
    assert first.items[0].definition is None and first.previous_token is None
    assert first.next_token is not None
    second = service.list_revisions(account.sid, flow.sid, page_size=2, page_token=first.next_token)
    assert [r.revision for r in second.items] == [3, 2]
    third = service.list_revisions(account.sid, flow.sid, page_size=2, page_token=second.next_token)
    assert [r.revision for r in third.items] == [1] and third.next_token is None
    assert third.previous_token is not None
    back = service.list_revisions(
        account.sid, flow.sid, page_size=2, page_token=third.previous_token
    )
    assert [r.revision for r in back.items] == [3, 2]


@pytest.mark.parametrize("token", ["garbage", "PAgarbage", "PB", "PA" + "x" * 40])
def test_bad_page_tokens_are_invalid_parameters(
    service: Callboard, account: Account, token: str
) -> None:
    with pytest.raises(InvalidParameter) as caught:
        service.list_flows(account.sid, page_token=token)
    assert caught.value.param == "PageToken"


def test_flows_list_newest_first(service: Callboard, account: Account, env: Any) -> None:
    sids = []
    for i in range(3):
        env.advance(1)
        sids.append(
            service.create_flow(
                account.sid, friendly_name=f"f{i}", status="draft", definition=send_flow()
            ).sid
        )
    page = service.list_flows(account.sid, page_size=2)
    assert [f.sid for f in page.items] == sids[::-1][:2]
    assert all(f.definition is None and f.valid is None for f in page.items)
    rest = service.list_flows(account.sid, page_size=2, page_token=page.next_token)
    assert [f.sid for f in rest.items] == [sids[0]]


def test_other_accounts_flows_are_not_found(
    service: Callboard, account: Account, other: Account
) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=send_flow()
    )
    calls = [
        lambda: service.fetch_flow(other.sid, flow.sid),
        lambda: service.update_flow(other.sid, flow.sid, status="draft"),
        lambda: service.delete_flow(other.sid, flow.sid),
        lambda: service.list_revisions(other.sid, flow.sid),
        lambda: service.fetch_revision(other.sid, flow.sid, "1"),
        lambda: service.fetch_test_users(other.sid, flow.sid),
        lambda: service.update_test_users(other.sid, flow.sid, ["+1"]),
        lambda: service.list_executions(other.sid, flow.sid),
        lambda: service.create_execution(other.sid, flow.sid, to="+1", from_="+2"),
    ]
    for call in calls:
        with pytest.raises(NotFound):
            call()
    assert service.list_flows(other.sid).items == []
    assert service.fetch_flow(account.sid, flow.sid).revision == 1


def test_test_users_replace(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="draft", definition=send_flow()
    )
    assert service.fetch_test_users(account.sid, flow.sid).test_users == []
    updated = service.update_test_users(account.sid, flow.sid, ["+1555", "+1666", "+1555", " "])
    assert updated.test_users == ["+1555", "+1666"]
    assert service.fetch_test_users(account.sid, flow.sid).test_users == ["+1555", "+1666"]


def test_validate(service: Callboard) -> None:
    service.validate_definition(send_flow())
    with pytest.raises(InvalidDefinition):
        service.validate_definition(BROKEN)
    with pytest.raises(InvalidDefinition):
        service.validate_definition(["not", "an", "object"])


def test_delete_flow_removes_everything(service: Callboard, account: Account) -> None:
    flow = service.create_flow(
        account.sid, friendly_name="f", status="published", definition=send_flow()
    )
    service.create_execution(account.sid, flow.sid, to="+1", from_="+2")
    service.delete_flow(account.sid, flow.sid)
    with pytest.raises(NotFound):
        service.fetch_flow(account.sid, flow.sid)
    from sqlalchemy import func, select

    from callboard.store import tables as t

    with service.db.read() as conn:
        for table in (t.flow_revisions, t.executions, t.steps):
            assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
