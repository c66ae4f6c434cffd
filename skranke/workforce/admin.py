from __future__ import annotations

from django.contrib import admin

from skranke.workforce.models import (
    AgentContract,
    ChannelSettings,
    ForecastAdjustment,
    OpeningHours,
    Schedule,
    ScheduledShift,
    ShiftTemplate,
    Shrinkage,
)


@admin.register(ChannelSettings)
class ChannelSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "channel",
        "planned",
        "aht_seconds",
        "service_level_percent",
        "target_seconds",
        "patience_seconds",
        "max_occupancy_percent",
        "chat_concurrency",
        "response_hours",
    )
    list_editable = ("planned",)


@admin.register(Shrinkage)
class ShrinkageAdmin(admin.ModelAdmin):
    list_display = ("name", "percent")


@admin.register(OpeningHours)
class OpeningHoursAdmin(admin.ModelAdmin):
    list_display = ("channel", "weekday", "opens", "closes")
    list_filter = ("channel", "weekday")


@admin.register(ShiftTemplate)
class ShiftTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "start", "length_minutes", "break_minutes", "active")
    list_editable = ("active",)


@admin.register(AgentContract)
class AgentContractAdmin(admin.ModelAdmin):
    list_display = ("user", "weekly_hours", "hours_tolerance", "channels", "active")
    list_filter = ("active",)
    autocomplete_fields = ("user",)
    search_fields = ("user__name", "user__email")


@admin.register(ForecastAdjustment)
class ForecastAdjustmentAdmin(admin.ModelAdmin):
    list_display = ("start", "end", "channel", "percent", "note", "created_by")


class ScheduledShiftInline(admin.TabularInline):
    model = ScheduledShift
    extra = 0
    raw_id_fields = ("agent",)


@admin.register(Schedule)
class ScheduleAdmin(admin.ModelAdmin):
    list_display = ("week_start", "status", "run_status", "solver_status", "gap", "created_by")
    list_filter = ("status", "run_status")
    readonly_fields = ("problem", "result", "reasons", "error")
    inlines = [ScheduledShiftInline]
