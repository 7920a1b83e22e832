from __future__ import annotations

from django.conf import settings
from django.db import models


class MicrosoftLogin(models.Model):
    """A Microsoft account (directory `tid`, object `oid`: Microsoft's stable ids, never the email)
    that may sign in as `user`."""

    class Origin(models.TextChoices):
        USER = "user", "linked by you"
        DOMAIN = "domain", "linked at its first sign-in (its sign-in name is your email, in an allowed domain)"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="microsoft_logins")
    tid = models.CharField(max_length=64)
    oid = models.CharField(max_length=64)
    username = models.CharField(max_length=320, help_text="The account's sign-in name when it was linked.")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.USER)
    linked_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tid", "oid"], name="one_user_per_microsoft_account")]

    def __str__(self) -> str:
        return self.username


class UnlinkedMicrosoftAccount(models.Model):
    """A Microsoft account a user unlinked: the domain rule never links it again, only an explicit,
    confirmed link by a user does (which removes this row)."""

    tid = models.CharField(max_length=64)
    oid = models.CharField(max_length=64)
    username = models.CharField(max_length=320)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+", help_text="Who unlinked it.")
    unlinked_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tid", "oid"], name="one_unlink_per_microsoft_account")]

    def __str__(self) -> str:
        return self.username
