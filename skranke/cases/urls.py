from django.urls import path

from skranke.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("<int:number>/", views.detail, name="detail"),
]
