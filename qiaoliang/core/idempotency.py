"""Idempotency keys for API writes that clients retry (registrations, check-in scans, status moves).

A request with an `Idempotency-Key` header claims the key by inserting a row (unique per user, scope and
key) in the same transaction as the write. A retry that arrives while the first is running waits for it
on the unique index (PostgreSQL) or on the write lock (SQLite), then finds the stored answer and replays
it, so a retry on any app server never applies a change twice. The same key with a different body is
refused. Records are kept for `IDEMPOTENCY_KEY_HOURS`; `manage.py purge_idempotency_records` deletes older ones.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core.models import IdempotencyRecord
from qiaoliang.core.sql import fetch_one_prepared

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 100


def _lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=int(getattr(settings, "IDEMPOTENCY_KEY_HOURS", 24)))


def fingerprint(body: Any) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, cls=DjangoJSONEncoder).encode()).hexdigest()


def request_key(request: Request) -> str:
    """Return the request's idempotency key ('' without one); refuse an over-long key."""
    key = (request.headers.get(HEADER) or "").strip()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [_("The key is longer than %(max)d characters.") % {"max": MAX_KEY_LENGTH}]})
    return key


def _replay(record: IdempotencyRecord) -> Response:
    return Response(record.response, status=record.status_code or status.HTTP_200_OK,
                    headers={"Idempotent-Replayed": "true"})  # fmt: skip


def run(request: Request, *, scope: str, body: Any, produce: Callable[[], Response]) -> Response:
    """Run `produce` once per (user, scope, key); a retry with the same key and body gets the same answer."""
    key = request_key(request)
    if not key:
        return produce()
    digest = fingerprint(body)
    user: Any = request.user
    with transaction.atomic():
        record_id = _claim(user.pk, scope[:120], key, digest)
        if record_id is None:
            record = IdempotencyRecord.objects.select_for_update().get(user=user, scope=scope[:120], key=key)
            if record.created_at < timezone.now() - _lifetime():
                record.delete()  # an expired key is free again
                record = IdempotencyRecord.objects.create(user=user, scope=scope[:120], key=key, fingerprint=digest)
            else:
                if record.fingerprint != digest:
                    raise ValidationError({HEADER: [_("This key was used for a different request.")]}) from None
                if record.state == IdempotencyRecord.State.DONE:
                    return _replay(record)
                return Response(
                    {
                        "detail": _("A request with this key is still running; try again."),
                        "code": "idempotency_conflict",
                    },
                    status=status.HTTP_409_CONFLICT,
                )
        else:
            record = IdempotencyRecord(pk=record_id)
        response = produce()
        if response.status_code >= 400:
            transaction.set_rollback(True)  # a refused request changed nothing: the key may be used again
            return response
        fetch_one_prepared(_done_sql(connection.vendor), [
            str(IdempotencyRecord.State.DONE), response.status_code,
            json.dumps(response.data, cls=DjangoJSONEncoder, ensure_ascii=False), record.pk,
        ])  # fmt: skip
        return response


@functools.cache
def _claim_sql(vendor: str) -> str:
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    return (
        f"INSERT INTO {table} (user_id, scope, {connection.ops.quote_name('key')}, fingerprint, state, created_at) "
        f"VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING id"
    )


@functools.cache
def _done_sql(vendor: str) -> str:
    table = connection.ops.quote_name(IdempotencyRecord._meta.db_table)
    data = "CAST(%s AS jsonb)" if vendor == "postgresql" else "%s"
    return f"UPDATE {table} SET state = %s, status_code = %s, response = {data} WHERE id = %s"


def _claim(user_id: int, scope: str, key: str, digest: str) -> int | None:
    """Insert the key's record; None when it exists (a concurrent first request is waited for on the unique index).

    `ON CONFLICT DO NOTHING` instead of an INSERT in a savepoint that fails: no savepoint round trips, no error.
    """
    row = fetch_one_prepared(
        _claim_sql(connection.vendor),
        [user_id, scope, key, digest, str(IdempotencyRecord.State.RUNNING), timezone.now()],
    )
    return int(row[0]) if row else None


def purge(*, older_than: datetime.timedelta | None = None) -> int:
    """Delete records past their lifetime; return how many."""
    cutoff = timezone.now() - (older_than or _lifetime())
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
