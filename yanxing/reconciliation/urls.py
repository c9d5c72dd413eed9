app_name = "reconciliation"
urlpatterns: list = []
