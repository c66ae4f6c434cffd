from django.urls import path

from skranke.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("queue/<slug:slug>/", views.queue, name="queue_named"),
    path("queue-nav/", views.queue_nav, name="queue_nav"),
    path("bulk/", views.bulk, name="bulk"),
    path("new/", views.new_case, name="new"),
    path("new/customers/", views.customer_lookup, name="customer_lookup"),
    path("new/customer/", views.customer_pick, name="customer_pick"),
    path("<int:number>/", views.detail, name="detail"),
    path("<int:number>/timeline/", views.timeline_partial, name="timeline"),
    path("<int:number>/properties/", views.properties, name="properties"),
    path("<int:number>/reply/", views.reply, name="reply"),
    path("<int:number>/quick/", views.quick, name="quick"),
    path("<int:number>/merge/", views.merge, name="merge"),
    path("<int:number>/link/", views.link, name="link"),
    path("<int:number>/attachments/<int:attachment_id>/", views.attachment, name="attachment"),
    path(
        "<int:number>/messages/<int:message_id>/retry/",
        views.retry_delivery,
        name="retry_delivery",
    ),
]
