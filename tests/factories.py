import factory
from django.conf import settings
from django.utils import timezone

from statements.models import Signature
from statements.normalise import email_key, name_key


class SignatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Signature

    kind = Signature.Kind.INDIVIDUAL
    state = Signature.State.CONFIRMED
    full_name = factory.Faker("name")
    email = factory.Sequence(lambda n: f"signer{n}@example.org")
    email_key = factory.LazyAttribute(lambda o: email_key(o.email))
    country = "KZ"
    city = "Almaty"
    show_publicly = True
    consent_version = factory.LazyFunction(lambda: settings.PRIVACY_NOTICE_VERSION)
    consent_at = factory.LazyFunction(timezone.now)
    confirmed_at = factory.LazyFunction(timezone.now)
    language = "es"


class OrganisationFactory(SignatureFactory):
    kind = Signature.Kind.ORGANISATION
    state = Signature.State.APPROVED
    organisation_name = factory.Sequence(lambda n: f"Workers' Union {n}")
    organisation_name_key = factory.LazyAttribute(lambda o: name_key(o.organisation_name))
    organisation_type = Signature.OrganisationType.TRADE_UNION
    contact_role = "Secretary"
    authorised = True
    decided_at = factory.LazyFunction(timezone.now)
