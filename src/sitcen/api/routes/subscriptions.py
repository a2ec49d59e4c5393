"""A user's subscriptions: what they follow and how it reaches them (their own, nobody else's)."""


import uuid
from typing import Any

from fastapi import APIRouter, Response, status
from pydantic import BaseModel, ConfigDict

from sitcen.api.deps import CurrentNode, Reader
from sitcen.operations.delivery import delivery_log, webhook_key
from sitcen.operations.subscriptions import (
    SubscriptionBase,
    SubscriptionCreate,
    SubscriptionUpdate,
    load_subscriptions,
    own_subscription,
    subscribe,
    unsubscribe,
)
from sitcen.store.journal import RecordKind
from sitcen.store.records import StoredRecord, next_version, write_own

router = APIRouter(prefix="/subscriptions", tags=["notifications"])


class SubscriptionPublic(SubscriptionBase):
    """A subscription as stored: the filters and channels, with its identity."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    version: int
    recorded_at: str
    username: str


class SubscriptionList(BaseModel):
    """The user's subscriptions, newest first."""

    subscriptions: list[SubscriptionPublic]


def public(record: StoredRecord) -> dict[str, Any]:
    """The API form of a subscription record."""
    return {**record.body, "id": record.id, "version": record.version,
            "recorded_at": record.to_dict()["recorded_at"]}


def owned(node: CurrentNode, username: str, subscription_id: uuid.UUID) -> StoredRecord:
    """The user's own subscription, or 404 (another user's is not theirs to see)."""
    return own_subscription(node.engine, username, str(subscription_id))


@router.get("", response_model=SubscriptionList)
def read_subscriptions(node: CurrentNode, user: Reader) -> dict[str, Any]:
    """The subscriptions of the user making the request."""
    return {"subscriptions": [public(r) for r in load_subscriptions(node.engine, user.username)]}


@router.post("", status_code=status.HTTP_201_CREATED, response_model=SubscriptionPublic)
def create_subscription(item: SubscriptionCreate, node: CurrentNode,
                        user: Reader) -> dict[str, Any]:
    """Follow records by kind, section, area, event type, impact level and alert severity."""
    return public(subscribe(node.engine, node.settings.node_id, user.username, item))


@router.get("/{subscription_id}", response_model=SubscriptionPublic)
def read_subscription(subscription_id: uuid.UUID, node: CurrentNode,
                      user: Reader) -> dict[str, Any]:
    """One of the user's subscriptions."""
    return public(owned(node, user.username, subscription_id))


@router.put("/{subscription_id}", response_model=SubscriptionPublic)
def update_subscription(subscription_id: uuid.UUID, item: SubscriptionUpdate,
                        node: CurrentNode, user: Reader) -> dict[str, Any]:
    """Change one of the user's subscriptions (the whole of it; a new version)."""
    owned(node, user.username, subscription_id)
    return public(subscribe(node.engine, node.settings.node_id, user.username, item,
                            record_id=str(subscription_id), base_version=item.base_version))


@router.delete("/{subscription_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_subscription(subscription_id: uuid.UUID, node: CurrentNode,
                        user: Reader) -> Response:
    """Stop following: the subscription is deleted (its versions stay in the journal)."""
    owned(node, user.username, subscription_id)
    unsubscribe(node.engine, node.settings.node_id, user.username, str(subscription_id))
    return Response(status_code=status.HTTP_204_NO_CONTENT)


class WebhookKey(BaseModel):
    """The key a subscription's webhooks are signed with: HMAC-SHA256 over "<t>.<body>"."""

    key: str
    key_version: int


class DeliveryPublic(BaseModel):
    """One message sent out of the node, and how it went (the latest attempt)."""

    model_config = ConfigDict(extra="allow")

    id: uuid.UUID
    version: int
    channel: str
    to: str
    status: str
    attempts: int
    last_error: str
    notifications: list[str]


class DeliveryLog(BaseModel):
    """A subscription's deliveries, newest first."""

    deliveries: list[DeliveryPublic]


def _key(node: CurrentNode, record: StoredRecord) -> dict[str, Any]:
    version = int(record.body.get("key_version", 1))
    return {"key": webhook_key(node.settings.secret_key.get_secret_value(), record.id, version),
            "key_version": version}


@router.get("/{subscription_id}/webhook-key", response_model=WebhookKey)
def read_webhook_key(subscription_id: uuid.UUID, node: CurrentNode,
                     user: Reader) -> dict[str, Any]:
    """The key the subscription's webhooks are signed with (its owner only)."""
    return _key(node, owned(node, user.username, subscription_id))


@router.post("/{subscription_id}/webhook-key", response_model=WebhookKey)
def create_webhook_key(subscription_id: uuid.UUID, node: CurrentNode,
                       user: Reader) -> dict[str, Any]:
    """Replace the webhook key (the old one stops being used at once)."""
    current = owned(node, user.username, subscription_id)
    body = {**current.body, "key_version": int(current.body.get("key_version", 1)) + 1}
    record = write_own(node.engine, [next_version(node.engine, RecordKind.subscription,
                                                  current.id, body, node.settings.node_id,
                                                  current=current)],
                       node.settings.node_id)[0]
    return _key(node, record)


@router.get("/{subscription_id}/deliveries", response_model=DeliveryLog)
def read_deliveries(subscription_id: uuid.UUID, node: CurrentNode,
                    user: Reader) -> dict[str, Any]:
    """What went out for a subscription by e-mail and webhook, and how it went."""
    owned(node, user.username, subscription_id)
    found = delivery_log(node.engine, user.username, subscription_id=str(subscription_id))
    return {"deliveries": [{**d.body, "id": d.id, "version": d.version,
                            "recorded_at": d.to_dict()["recorded_at"]} for d in found]}
