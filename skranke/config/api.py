from ninja import NinjaAPI

api = NinjaAPI(title="Skranke API", version="1", urls_namespace="api")
