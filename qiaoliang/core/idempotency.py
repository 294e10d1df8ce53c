"""Idempotency keys for API writes that clients retry (registrations, check-in scans, status moves).

A request with an `Idempotency-Key` header claims the key by inserting a row (unique per user, scope and
key) in the same transaction as the write. A retry that arrives while the first is running waits for it
on the unique index (PostgreSQL) or on the write lock (SQLite), then finds the stored answer and replays
it, so a retry on any app server never applies a change twice. The same key with a different body is
refused. Records are kept for `IDEMPOTENCY_KEY_HOURS`; `manage.py purge_idempotency_records` deletes older ones.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from qiaoliang.core.models import IdempotencyRecord

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
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(user=user, scope=scope[:120], key=key, fingerprint=digest)
        except IntegrityError:
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
        response = produce()
        if response.status_code >= 400:
            transaction.set_rollback(True)  # a refused request changed nothing: the key may be used again
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            state=IdempotencyRecord.State.DONE, status_code=response.status_code,
            response=json.loads(json.dumps(response.data, cls=DjangoJSONEncoder)),
        )  # fmt: skip
        return response


def purge(*, older_than: datetime.timedelta | None = None) -> int:
    """Delete records past their lifetime; return how many."""
    cutoff = timezone.now() - (older_than or _lifetime())
    deleted, _rows = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
