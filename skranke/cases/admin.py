from __future__ import annotations

from django.contrib import admin

from skranke.cases.models import Category, Tag


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "team")
    list_filter = ("team",)
    search_fields = ("name",)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


# Cases themselves are changed in the workspace, through actions that write the event history;
# an admin form would bypass it, so cases are deliberately not registered here.
