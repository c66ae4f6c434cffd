from django.urls import path

from skranke.workforce import views

app_name = "workforce"

urlpatterns = [
    path("", views.index, name="index"),
    path("forecast/", views.forecast, name="forecast"),
    path("forecast/adjustments/", views.adjustment_create, name="adjustment_create"),
    path(
        "forecast/adjustments/<int:adjustment_id>/delete/",
        views.adjustment_delete,
        name="adjustment_delete",
    ),
    path("staffing/", views.staffing, name="staffing"),
    path("what-if/", views.what_if, name="what_if"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<int:schedule_id>/", views.schedule_detail, name="schedule"),
    path("schedules/<int:schedule_id>/publish/", views.schedule_publish, name="schedule_publish"),
    path(
        "schedules/<int:schedule_id>/export.<str:fmt>",
        views.schedule_export,
        name="schedule_export",
    ),
    path(
        "schedules/<int:schedule_id>/agents/<int:user_id>.ics",
        views.schedule_agent_ics,
        name="schedule_agent_ics",
    ),
    path("my-shifts/", views.my_shifts, name="my_shifts"),
    path("my-shifts.ics", views.my_shifts_ics, name="my_shifts_ics"),
]
