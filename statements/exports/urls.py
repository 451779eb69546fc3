# Export URLs are included under /staff/exports/ in the "staff" namespace.
urlpatterns: list = []
