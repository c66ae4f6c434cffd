from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from skranke.accounts.models import ApiToken, Team, User


class AgentCreationForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name", "role")


class AgentChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class TeamMembershipInline(admin.TabularInline):
    model = Team.members.through
    extra = 0
    verbose_name = _("team")
    verbose_name_plural = _("teams")


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    add_form = AgentCreationForm
    form = AgentChangeForm
    ordering = ("name",)
    list_display = ("name", "email", "role", "presence", "capacity", "is_active")
    list_filter = ("role", "presence", "is_active", "teams")
    search_fields = ("name", "email")
    inlines = [TeamMembershipInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("Person"), {"fields": ("name", "role", "language")}),
        (_("Routing"), {"fields": ("languages", "skills", "capacity", "presence")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {"classes": ("wide",), "fields": ("email", "name", "role", "password1", "password2")},
        ),
    )


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "email", "member_count")
    search_fields = ("name",)
    prepopulated_fields = {"slug": ("name",)}
    filter_horizontal = ("members",)

    @admin.display(description=_("members"))
    def member_count(self, team: Team) -> int:
        return team.members.count()


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("prefix", "user", "name", "created_at", "revoked_at")
    readonly_fields = ("prefix", "key_hash", "created_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "name", "prefix")

    def has_add_permission(self, request: object) -> bool:
        # Tokens are issued with `skranke token create` so the raw value is shown exactly once.
        return False
