app_name = "emissions"

urlpatterns: list = []
