from django.urls import include, path

app_name = "staff"

urlpatterns = [
    # Signatory exports (organisers only); their views live in statements/exports/.
    path("exports/", include("statements.exports.urls")),
]
