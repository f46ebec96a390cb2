"""Writers who sell to us or want to resell us are not buyers, in several languages; a buyer
who mentions our website or a partner of theirs still is. Sentences are this file's own."""

from __future__ import annotations

import pytest

from leadflow.agents.buyer_signals import non_buyer_said
from leadflow.config import icp

AUTHORITY = icp().bant["authority"]


@pytest.mark.parametrize("text", [
    "Our studio would like to offer your platform white-label to the clinics we serve.",
    "We would be keen on reselling your tool to our SME clients in Pune.",
    "Nous proposons un audit SEO offert et une stratégie de netlinking pour votre éditeur.",
    "我们是一家软件外包公司，希望能为贵司提供本地化测试服务。",
    "Freelance RevOps consultant here, open to projects from January.",
    "Queremos revender su plataforma a nuestros clientes en Chile.",
])
def test_sellers_and_resellers_are_not_buyers(text: str) -> None:
    assert non_buyer_said(text, AUTHORITY) is not None


@pytest.mark.parametrize("text", [
    "I saw on your website that you integrate with Pipedrive; we need that for 40 reps.",
    "Our implementation partner recommended your routing module for our call centre.",
    "我们对贵司产品很感兴趣，想了解价格。",
])
def test_buyers_who_mention_us_or_their_partners_are_buyers(text: str) -> None:
    assert non_buyer_said(text, AUTHORITY) is None
