from django.conf import settings


def site(request):
    return {
        "SITE_URL": settings.SITE_URL,
        "PRIVACY_NOTICE_VERSION": settings.PRIVACY_NOTICE_VERSION,
        "CONTACT_EMAIL": settings.CONTACT_EMAIL,
        "DATA_CONTROLLER": settings.DATA_CONTROLLER,
        "LANGUAGE_COOKIE_NAME": settings.LANGUAGE_COOKIE_NAME,
    }
