"""The four-eyes rule as a function, for any intake (dief post, the intake folder)."""

from __future__ import annotations

import pytest

from dief.exceptions import ReleaseRefusedError
from dief.portal import Account, approve_release, check_four_eyes, totp_code
from tests.portal.conftest import PASSWORD, Site


def test_the_author_is_never_the_approver() -> None:
    check_four_eyes("ana", "ben")
    with pytest.raises(ReleaseRefusedError) as refused:
        check_four_eyes("ana", " ANA ")
    assert refused.value.code == "four_eyes"
    with pytest.raises(ReleaseRefusedError) as not_approver:
        check_four_eyes("ana", "ben", approver_may_approve=False)
    assert not_approver.value.code == "not_approver"


def test_approve_release_signs_the_approver_in_and_applies_the_rule(node_site: Site) -> None:
    portal = node_site.portal
    login_method = portal.login_method
    assert login_method is not None

    def approve(author: str, approver: str, password: str = PASSWORD) -> Account:
        node_site.clock.now += 30  # a fresh code each time (a code is spent once)
        code = totp_code(node_site.secrets[approver], node_site.clock.now)
        return node_site.call(approve_release, login_method, author, approver, password, code)

    account = approve("ana", "ben")
    assert account.username == "ben"
    with pytest.raises(ReleaseRefusedError, match="author"):
        approve("ben", "ben")
    with pytest.raises(ReleaseRefusedError, match="only an approver"):
        approve("ben", "ana")  # ana is an officer, not an approver
    with pytest.raises(ReleaseRefusedError) as refused:
        approve("ana", "ben", "not the password at all")
    assert refused.value.code == "approver_login"
