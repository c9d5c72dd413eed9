from django.urls import include, path
from django.views.i18n import set_language

urlpatterns = [
    path("i18n/setlang/", set_language, name="set_language"),
    path("api/", include("yanxing.api.urls")),
    path("", include("yanxing.accounts.urls")),
    path("", include("yanxing.dashboards.urls")),
    path("orgs/", include("yanxing.orgs.urls")),
    path("members/", include("yanxing.members.urls")),
    path("ledgers/", include("yanxing.ledgers.urls")),
    path("reconciliation/", include("yanxing.reconciliation.urls")),
    path("audit/", include("yanxing.audit.urls")),
    path("regions/", include("yanxing.regions.urls")),
]
