from django.urls import path

from skranke.cases.consumers import DeskConsumer

websocket_urlpatterns = [
    path("ws/desk/", DeskConsumer.as_asgi()),
]
