"""The outbound hook: a public email reply written anywhere is queued for sending.

A signal keeps ``cases.actions.add_message`` free of mail knowledge; the send itself waits for
``transaction.on_commit`` so a rolled-back reply is never mailed.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save
from django.dispatch import receiver

from skranke.cases.models import Message, MessageKind


@receiver(post_save, sender=Message, dispatch_uid="mail-queue-reply")
def queue_email_reply(
    sender: type[Message], instance: Message, created: bool, **kwargs: Any
) -> None:
    if created and instance.kind == MessageKind.REPLY and not kwargs.get("raw"):
        from skranke.mail.actions import queue_reply

        queue_reply(instance)
