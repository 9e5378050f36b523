"""SSRF filter (issue 21): with TRIALDESK_ENV=production, an IPv6 webhook URL that embeds a
non-public IPv4 address (NAT64, IPv4-compatible, IPv4-translated, 6to4, Teredo) is refused like the
IPv4 address itself; before, `https://[64:ff9b::7f00:1]/`, `https://[::7f00:1]/` and
`https://[::ffff:0:7f00:1]/` were accepted. And the delivery connects only to addresses it checked:
a host name is resolved once per connection and refused when it answers with one it may not call
(no DNS rebinding between the check and the connection)."""
from __future__ import annotations

import aiohttp
import pytest

from jobs import webhooks
from server.domain.webhooks import urls as webhook_urls
from server.domain.core.errors import DomainError
from tests.webhooks.receiver import Receiver

EMBEDDING_LOOPBACK_OR_PRIVATE = [
    "https://[64:ff9b::7f00:1]/", "https://[::7f00:1]/", "https://[::ffff:0:7f00:1]/",   # the three
    "https://[::ffff:127.0.0.1]/", "https://[64:ff9b::a9fe:a9fe]/",                       # mapped; NAT64 metadata
    "https://[2002:7f00:1::1]/", "https://[2002:a00:1::1]/",                              # 6to4 of 127.0.0.1, 10.0.0.1
    "https://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",                                   # Teredo client 127.0.0.1
    "https://[64:ff9b:1::a00:1]/",                                                        # local-use NAT64
]


@pytest.mark.parametrize("url", EMBEDDING_LOOPBACK_OR_PRIVATE)
async def test_an_ipv6_url_embedding_a_non_public_ipv4_is_refused_in_production(url):
    with pytest.raises(DomainError) as refused:
        await webhook_urls.check(url, production=True)
    assert refused.value.errors[0].field == ["url"]


@pytest.mark.parametrize("address", ["64:ff9b::808:808", "2002:808:808::1", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_and_their_embeddings_stay_allowed(address):
    assert webhook_urls.allowed(address, production=True)


async def test_the_delivery_connects_only_to_addresses_it_checked():
    """`localhost` resolves to loopback: in production the connection is refused by the resolver the
    delivery connects with (whatever an earlier check said); in dev it reaches the receiver."""
    receiver = await Receiver().start()
    try:
        async with webhooks.client(production=True) as http:
            with pytest.raises(aiohttp.ClientConnectorError):
                await http.post(f"http://localhost:{receiver.port}/hook", data=b"{}")
        assert receiver.requests == []
        async with webhooks.client(production=False) as http:
            async with http.post(f"http://localhost:{receiver.port}/hook", data=b"{}") as answer:
                assert answer.status == 200
        assert len(receiver.requests) == 1
    finally:
        await receiver.stop()
