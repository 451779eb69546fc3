"""Rate-limit buckets and outages: an IPv4 address wrapped in an IPv6 one is its own client,
and the sign limits keep a ceiling while Redis cannot be reached."""

import pytest
from django.test import Client

from statements.http import client_ip, ip_bucket
from statements.models import Signature
from tests.statements.test_abuse import individual
from tests.statements.test_signing import SIGN_URL

MAPPED = ["::ffff:203.0.113.1", "::ffff:198.51.100.2"]
# Two Teredo clients of one relay server share the first 64 bits: 2001:0:<server>::/64.
TEREDO = ["2001:0:4136:e378:8000:63bf:3fff:fdd2", "2001:0:4136:e378:8000:63bf:39cc:9bf8"]
# One 6to4 site (2002:<its IPv4>::/48) holds 65,536 /64s.
SIXTOFOUR = ["2002:cb00:7101:1::1", "2002:cb00:7101:2::1"]


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        (MAPPED[0], "203.0.113.1"),
        (TEREDO[0], "192.0.2.45"),
        (TEREDO[1], "198.51.100.7"),
        (SIXTOFOUR[0], "203.0.113.1"),
        (SIXTOFOUR[1], "203.0.113.1"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::"),
        ("192.0.2.9", "192.0.2.9"),
    ],
)
def test_wrapped_ipv4_addresses_are_unwrapped_before_bucketing(address, bucket):
    assert ip_bucket(address) == bucket


def test_an_ipv4_client_behind_an_ipv6_socket_is_that_ipv4_client(rf):
    assert client_ip(rf.post("/", REMOTE_ADDR=MAPPED[0])) == "203.0.113.1"


@pytest.mark.parametrize("pair", [MAPPED, TEREDO], ids=["mapped", "teredo"])
def test_one_wrapped_client_cannot_spend_everyones_budget(client, statement, settings, pair):
    settings.SIGN_RATE_IP_BURST = "3/h"  # an hour: no window boundary mid-test
    first, second = pair
    statuses = [
        client.post(SIGN_URL, individual(n), REMOTE_ADDR=first).status_code for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]
    assert client.post(SIGN_URL, individual(9), REMOTE_ADDR=second).status_code == 302


def test_a_6to4_site_is_one_client_across_its_subnets(client, statement, settings):
    settings.SIGN_RATE_IP_BURST = "3/h"  # an hour: no window boundary mid-test
    statuses = [
        client.post(SIGN_URL, individual(n), REMOTE_ADDR=SIXTOFOUR[n % 2]).status_code
        for n in range(4)
    ]
    assert statuses == [302, 302, 302, 429]


def test_with_redis_down_the_sign_limits_still_hold_per_process(
    client, statement, settings, dead_redis_cache, caplog
):
    settings.SIGN_RATE_IP_BURST = "3/h"  # an hour: no window boundary mid-test
    statuses = [client.post(SIGN_URL, individual(n)).status_code for n in range(5)]
    assert statuses == [302, 302, 302, 429, 429]
    assert Signature.objects.count() == 3
    assert "rate-limit cache unavailable" in caplog.text
    # Another client is not affected.
    other = Client(REMOTE_ADDR="198.51.100.20")
    assert other.post(SIGN_URL, individual(7)).status_code == 302


def test_with_redis_down_the_email_limit_still_holds(client, statement, settings, dead_redis_cache):
    settings.SIGN_RATE_EMAIL = "2/h"
    statuses = [
        client.post(SIGN_URL, individual(0), REMOTE_ADDR=f"192.0.2.{n}").status_code
        for n in range(3)
    ]
    assert statuses == [302, 302, 429]
