from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("login/", views.staff_login, name="login"),
    path("logout/", views.staff_logout, name="logout"),
    path("account/totp/setup/", views.totp_setup, name="totp_setup"),
    path("account/totp/verify/", views.totp_verify, name="totp_verify"),
    path("account/security/", views.security, name="security"),
    path("m/login/", views.member_login, name="member_login"),
    path("m/", views.member_home, name="member_home"),
]
