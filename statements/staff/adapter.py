"""django-allauth adapter: staff accounts are invitation-only, so public sign-up is closed."""

from allauth.account.adapter import DefaultAccountAdapter


class StaffAccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        return False
