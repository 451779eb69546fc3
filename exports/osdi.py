"""The JSON export: a collection of signatures as the Open Supporter Data Interface defines it.

OSDI (opensupporter.github.io/osdi-docs) is the vocabulary progressive organising tools
exchange supporters in. What this file follows, resource by resource:

- the collection: `_embedded["osdi:signatures"]`, `_links` (self, the petition, OSDI's curie)
  and the paging fields `total_records`, `per_page`, `page`, `total_pages` — the whole list is
  one page;
- each signature: `identifiers`, `origin_system`, `created_date`, `modified_date`,
  `action_date` (when the person signed), `comments`, `_links` (self: its staff page; the
  petition: the statement's page), and the signer inlined as `person`, as OSDI's Record
  Signature Helper carries it;
- the person: `email_addresses`, `postal_addresses` (city and country code),
  `languages_spoken`, `employer` and `occupation`; OSDI's `given_name` and `family_name` are
  left out, because the form asks for one full name and splitting names is guesswork across
  the naming customs of the signers (patronymics, two family names, family name first); the
  full name travels in the person's `custom_fields`;
- an organisation's endorsement also carries `organization`, in OSDI's Organization
  vocabulary (`name`, `location`, `contact`), and `custom_fields.signatory_type` says
  "organisation" or "individual", so the two never mix;
- `custom_fields` values are strings, as OSDI defines them.

Dates are ISO 8601 in UTC ("2022-01-05T10:00:00Z"), made by the database
(selectors.IsoTimestamp). Records are written one per line as the rows stream in.
"""

import json
from collections.abc import Iterable
from typing import TextIO

from django.conf import settings
from django.urls import reverse

from exports.cells import Chunks, Names, Progress

ORIGIN_SYSTEM = "Solidarity petition"
# Identifiers are "<system>:<id>" (OSDI); the system part names this site.
IDENTIFIER_PREFIX = "petition"
OSDI_DOCS = "https://opensupporter.github.io/osdi-docs/{rel}"
_TRUE_FALSE = {True: "true", False: "false"}


def _strings(fields: dict) -> dict[str, str]:
    """custom_fields: string values only, empty ones left out."""
    return {key: str(value) for key, value in fields.items() if value not in (None, "")}


def _links(*, self_href: str, petition_href: str) -> dict:
    return {"self": {"href": self_href}, "osdi:petition": {"href": petition_href}}


class Records:
    """Turns export rows into OSDI signature records for one statement and one language."""

    def __init__(self, *, names: Names, statement_href: str):
        self.names = names
        self.statement_href = statement_href
        # The staff page of a signature, with a placeholder for its id.
        self._signature_href = settings.SITE_URL + reverse("staff:signature", kwargs={"pk": 0})

    def signature_href(self, pk: int) -> str:
        return self._signature_href.replace("/0/", f"/{pk}/")

    def record(self, row: tuple) -> dict:
        (
            pk,
            kind,
            state,
            full_name,
            email,
            organisation_name,
            organisation_type,
            contact_role,
            website,
            affiliation,
            city,
            country,
            show_publicly,
            comment,
            language,
            source,
            referrer,
            created,
            confirmed,
            decided,
        ) = row
        organisation = kind == "organisation"
        address = {"primary": True, "locality": city, "country": country}
        if not city:
            del address["locality"]
        person = {
            "email_addresses": [
                {
                    "address": email,
                    "primary": True,
                    "address_type": "Work" if organisation else "Personal",
                }
            ]
            if email
            else [],
            "postal_addresses": [address] if country or city else [],
            "languages_spoken": [language] if language else [],
            "custom_fields": _strings({"full_name": full_name, "affiliation": affiliation}),
        }
        if organisation:
            person["employer"] = organisation_name
            if contact_role:
                person["occupation"] = contact_role
        elif affiliation:
            # The form's "affiliation or occupation": a union, a workplace or a trade.
            person["occupation"] = affiliation
        names = self.names
        record = {
            "identifiers": [f"{IDENTIFIER_PREFIX}:{pk}"],
            "origin_system": ORIGIN_SYSTEM,
            "created_date": created,
            "modified_date": max(t for t in (created, confirmed, decided) if t),
            "action_date": created,
            "person": person,
            "custom_fields": _strings(
                {
                    "signatory_type": kind,
                    "signatory_type_name": names.kind.get(kind, kind),
                    "state": state,
                    "state_name": names.state.get(state, state),
                    "show_publicly": _TRUE_FALSE[bool(show_publicly)],
                    "country_name": names.country.get(country, country),
                    "source": source,
                    "source_name": names.source.get(source, source),
                    "referrer": referrer,
                    "confirmed_date": confirmed,
                    "decided_date": decided,
                }
            ),
            "_links": _links(self_href=self.signature_href(pk), petition_href=self.statement_href),
        }
        if comment:
            record["comments"] = comment
        if organisation:
            record["organization"] = {
                "name": organisation_name,
                "location": {k: v for k, v in address.items() if k != "primary"},
                "contact": {"name": full_name, "email_address": email},
            }
            record["custom_fields"].update(
                _strings(
                    {
                        "organisation_type": organisation_type,
                        "organisation_type_name": names.organisation_type.get(
                            organisation_type, organisation_type
                        ),
                        "website": website,
                    }
                )
            )
        return record


def write_json(
    out: TextIO,
    chunks: Chunks,
    *,
    records: Records,
    meta: dict,
    self_href: str,
    on_progress: Progress,
) -> int:
    """Write the collection; returns the number of signatures written. `meta` (the statement,
    the export's id and filters, when it was made) goes first, the paging fields last, once
    the count is known."""
    out.write("{")
    for key, value in meta.items():
        out.write(f"{json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},\n")
    links = _links(self_href=self_href, petition_href=records.statement_href)
    links["curies"] = [{"name": "osdi", "href": OSDI_DOCS, "templated": True}]
    out.write(f'"_links": {json.dumps(links)},\n')
    out.write('"_embedded": {"osdi:signatures": [')
    done = _write_records(out, chunks, records, on_progress)
    paging = {"total_records": done, "per_page": done, "page": 1, "total_pages": 1}
    out.write("\n]},\n" + json.dumps(paging)[1:] + "\n")
    return done


def _write_records(out: TextIO, chunks: Iterable[list[tuple]], records: Records, on_progress):
    done = 0
    for chunk in chunks:
        for row in chunk:
            out.write("\n" if not done else ",\n")
            out.write(json.dumps(records.record(row), ensure_ascii=False))
            done += 1
        on_progress(done)
    return done
