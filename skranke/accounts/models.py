from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("Agent")
    TEAM_LEAD = "team_lead", _("Team lead")
    ADMIN = "admin", _("Administrator")


class Presence(models.TextChoices):
    AVAILABLE = "available", _("Available")
    BUSY = "busy", _("Busy")
    AWAY = "away", _("Away")
    OFFLINE = "offline", _("Offline")


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("role", Role.ADMIN)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who works in the centre: agent, team lead or administrator.

    Customers are not users; they live in ``customers.Customer``.
    """

    email = models.EmailField(_("email"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    language = models.CharField(_("interface language"), max_length=8, default="nb")
    # The agent profile: what routing needs to know about the person.
    languages = models.JSONField(_("languages spoken"), default=list, blank=True)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    capacity = models.PositiveSmallIntegerField(_("capacity (open cases)"), default=20)
    presence = models.CharField(
        _("presence"), max_length=12, choices=Presence.choices, default=Presence.OFFLINE
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["name"]

    class Meta:
        verbose_name = _("agent")
        verbose_name_plural = _("agents")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name

    def get_short_name(self) -> str:
        return self.name.split(" ")[0] if self.name else self.email

    @property
    def sees_all_teams(self) -> bool:
        return self.role in (Role.TEAM_LEAD, Role.ADMIN) or self.is_superuser

    @property
    def initials(self) -> str:
        parts = [p for p in self.name.split() if p]
        return "".join(p[0] for p in parts[:2]).upper() or self.email[:2].upper()


class Team(models.Model):
    """A team is also a queue: cases belong to one team at a time."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), unique=True)
    email = models.EmailField(_("team address"), blank=True)
    description = models.TextField(_("description"), blank=True)
    members = models.ManyToManyField(User, related_name="teams", blank=True)

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class ApiTokenManager(models.Manager["ApiToken"]):
    def issue(self, user: User, name: str = "") -> tuple[ApiToken, str]:
        raw = "sk_" + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name, prefix=raw[:10], key_hash=_hash_token(raw))
        return token, raw

    def authenticate(self, raw: str) -> User | None:
        token = (
            self.select_related("user")
            .filter(key_hash=_hash_token(raw), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        return token.user if token else None


class ApiToken(models.Model):
    """Bearer token for scripts. Only a hash is stored; the raw value is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.user})"
