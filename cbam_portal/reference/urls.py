from django.urls import path

from . import views

app_name = "reference"

urlpatterns = [
    path("", views.index, name="index"),
    path("cn/", views.cn_lookup, name="cn_lookup"),
    path("cn/<str:code>/", views.cn_detail, name="cn_detail"),
    path("cn/<str:code>/default-values.csv", views.cn_default_values_csv, name="cn_default_values_csv"),
    path("countries/", views.country_list, name="country_list"),
    path("datasets/", views.dataset_list, name="dataset_list"),
]
