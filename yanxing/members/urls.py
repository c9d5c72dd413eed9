from django.urls import path

from . import views

app_name = "members"
urlpatterns = [
    path("", views.MemberListView.as_view(), name="list"),
    path("new/", views.MemberCreateView.as_view(), name="create"),
    path("export.csv", views.MemberExportView.as_view(), name="export"),
    path("export.xlsx", views.MemberExportView.as_view(format="xlsx"), name="export_xlsx"),
    path("autocomplete/", views.member_autocomplete, name="autocomplete"),
    path("<int:pk>/", views.MemberDetailView.as_view(), name="detail"),
    path("<int:pk>/edit/", views.MemberEditView.as_view(), name="edit"),
    path("<int:pk>/reveal/<str:field>/", views.MemberRevealView.as_view(), name="reveal"),
    path("<int:pk>/do/<str:verb>/", views.MemberActionView.as_view(), name="action"),
]
