"""The portal at the HTTP level (issue 19, "Tests that must exist"): four eyes, one region's
member kept out of another's dashboard, CSRF, security headers on every page, a disabled
account, login rate limiting, idle sessions, and errors placed at their field and span."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

from dief.portal import SECURITY_HEADERS, Session, SessionCodec
from tests.portal.conftest import PASSWORD, Site, csrf_of

if TYPE_CHECKING:
    from httpx import Response

VALID = {
    "kind": "case",
    "confidence": "suspected",
    "region": "AFR",
    "detected": "2026-03",
    "items-0-category": "small_arms",
    "items-0-quantity": "40",
    "transfer_stage": "in_transit",
    "detection_source": "customs_border_control",
    "methods": ["falsified_documents", "complex_routing"],
    "risk_indicators": ["DOC-01"],
    "summary": "The end-user certificate carried a stamp that did not match the register.",
}


def _post(site: Site, url: str, data: dict[str, object], *, page: str | None = None) -> Response:
    token = csrf_of(site.client.get(page or url).text)
    response: Response = site.client.post(
        url, data={**data, "csrf_token": token}, follow_redirects=False
    )
    return response  # typed: the test client's post is not


def _submitted_case(site: Site, author: str) -> int:
    assert site.login(author).status_code == 303
    r = _post(site, "/cases/new", {**VALID, "action": "submit"})
    assert r.status_code == 303, r.text
    draft_id = int(r.headers["location"].rsplit("/", 1)[1])
    page = site.client.get(f"/cases/{draft_id}")
    assert "Awaiting approval" in page.text or "Waiting for a second officer" in page.text
    return draft_id


# -- four eyes ----------------------------------------------------------------------------


def test_an_author_cannot_approve_their_own_case(node_site: Site) -> None:
    draft_id = _submitted_case(node_site, "ben")  # ben is officer and approver
    r = _post(node_site, f"/cases/{draft_id}/approve", {}, page=f"/cases/{draft_id}")
    assert r.status_code == 403
    assert "cannot approve it" in r.text
    assert node_site.gateway.posted == []  # nothing reached the node
    assert "Approve and release" not in node_site.client.get(f"/cases/{draft_id}").text


def test_an_officer_without_the_approver_role_cannot_approve(node_site: Site) -> None:
    draft_id = _submitted_case(node_site, "ben")
    node_site.login("ana")
    r = _post(node_site, f"/cases/{draft_id}/approve", {}, page=f"/cases/{draft_id}")
    assert r.status_code == 403
    assert node_site.gateway.posted == []


def test_a_second_officer_releases_the_case_to_the_node(node_site: Site) -> None:
    draft_id = _submitted_case(node_site, "ana")
    node_site.login("ben")
    r = _post(node_site, f"/cases/{draft_id}/approve", {}, page=f"/cases/{draft_id}")
    assert r.status_code == 303
    [posted] = node_site.gateway.posted
    assert posted["region"] == "AFR"
    assert posted["items"] == [{"category": "small_arms", "quantity": "40"}]
    page = node_site.client.get(f"/cases/{draft_id}")
    assert "Queued" in page.text
    assert "00000000-0000-8000-8000-000000000001" in page.text
    # a second approval of the same case does nothing more
    again = _post(node_site, f"/cases/{draft_id}/approve", {}, page=f"/cases/{draft_id}")
    assert again.status_code == 409
    assert len(node_site.gateway.posted) == 1


def test_a_case_the_node_refuses_goes_back_to_its_author_with_the_reason(node_site: Site) -> None:
    node_site.gateway.refuse = ("cycle_changed", "detected: a revision cannot move it")
    draft_id = _submitted_case(node_site, "ana")
    node_site.login("ben")
    _post(node_site, f"/cases/{draft_id}/approve", {}, page=f"/cases/{draft_id}")
    node_site.login("ana")
    page = node_site.client.get(f"/cases/{draft_id}")
    assert 'id="field-detected"' in page.text
    assert "a revision cannot move it" in page.text


# -- regions ------------------------------------------------------------------------------


def test_a_meeting_member_cannot_open_another_regions_dashboard(region_site: Site) -> None:
    assert region_site.login("afr-member").status_code == 303
    assert region_site.client.get("/region/AFR/2026-05").status_code == 200
    for url in ("/region/EEG", "/region/EEG/2026-05", "/region/EEG/2026-05/checklist",
                "/region/EEG/2026-05/routes"):  # fmt: skip
        assert region_site.client.get(url).status_code == 403, url
    # a region this portal does not serve is not found at all
    assert region_site.client.get("/region/WEOG/2026-05").status_code == 404


def test_reading_a_dashboard_is_in_the_audit_log(region_site: Site) -> None:
    region_site.login("afr-member")
    region_site.client.get("/region/AFR/2026-05")
    entries = region_site.call(region_site.portal.accounts.audit_log)
    assert any(e.action == "read" and e.target == "digest AFR 2026-05" for e in entries)


# -- CSRF ---------------------------------------------------------------------------------


def test_a_form_post_without_the_csrf_token_is_refused(node_site: Site) -> None:
    node_site.login("ana")
    no_token = node_site.client.post("/cases/new", data=VALID, follow_redirects=False)
    assert no_token.status_code == 403
    wrong = node_site.client.post(
        "/cases/new", data={**VALID, "csrf_token": "x" * 43}, follow_redirects=False
    )
    assert wrong.status_code == 403
    assert node_site.call(node_site.portal.drafts.all) == []
    # the login form too
    other = node_site.fresh_client()
    r = other.post("/login", data={"username": "ana", "password": PASSWORD, "code": "000000"})
    assert r.status_code == 403


# -- headers ------------------------------------------------------------------------------


def _check_headers(response: Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (response.url, name)
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" in response.headers


def test_security_headers_are_on_every_page(node_site: Site) -> None:
    anonymous = node_site.fresh_client()
    for url in ("/login", "/", "/cases", "/static/portal.css", "/no-such-page"):
        _check_headers(anonymous.get(url, follow_redirects=False))
    node_site.login("ana")
    draft_id = _submitted_case(node_site, "ana")
    for url in ("/cases", "/cases/new", f"/cases/{draft_id}", "/catalogue?q=end-user",
                "/import", "/account", "/admin/accounts"):  # fmt: skip
        _check_headers(node_site.client.get(url))
    page = node_site.client.get("/cases/new").text
    assert "<script" not in page
    assert " style=" not in page
    assert "onclick" not in page


def test_the_session_cookie_is_secure_httponly_and_strict(node_site: Site) -> None:
    r = node_site.client.get("/login")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("__Host-dief=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie


# -- accounts -----------------------------------------------------------------------------


def test_a_disabled_account_cannot_log_in_and_its_session_ends(node_site: Site) -> None:
    ana = node_site.fresh_client()
    assert node_site.login("ana", client=ana).status_code == 303
    assert ana.get("/cases").status_code == 200
    node_site.login("admin")
    r = _post(node_site, "/admin/accounts/ana/disable", {}, page="/admin/accounts")
    assert r.status_code == 303
    # the open session is over
    assert ana.get("/cases", follow_redirects=False).headers["location"] == "/login"
    refused = node_site.login("ana", client=node_site.fresh_client())
    assert refused.status_code == 401
    assert "disabled" in refused.text


def test_a_wrong_code_or_password_is_refused(node_site: Site) -> None:
    c = node_site.fresh_client()
    token = csrf_of(c.get("/login").text)
    wrong_code = {"username": "ana", "password": PASSWORD, "code": "000000", "csrf_token": token}
    assert c.post("/login", data=wrong_code).status_code == 401
    wrong_password = {**wrong_code, "password": "not the password at all"}
    assert c.post("/login", data=wrong_password).status_code == 401


def test_logins_are_rate_limited(node_site: Site) -> None:
    c = node_site.fresh_client()
    token = csrf_of(c.get("/login").text)
    bad = {
        "username": "ana",
        "password": "wrong password 123",
        "code": "000000",
        "csrf_token": token,
    }
    for _ in range(5):
        assert c.post("/login", data=bad).status_code == 401
    # even the right password and code are not checked now
    assert node_site.login("ana", client=c).status_code == 429


def test_an_idle_session_ends() -> None:
    codec = SessionCodec("k" * 48, idle_seconds=60, secure=True)
    session = Session.fresh().signed_in(7, 0)
    cookie = codec.dump(session)
    assert codec.load(cookie, session.seen + 30).account == 7
    later = codec.load(cookie, session.seen + 61)
    assert later.account is None
    assert later.expired
    forged = cookie[:-2] + ("AA" if not cookie.endswith("AA") else "BB")
    assert codec.load(forged, session.seen).account is None


# -- errors in place ----------------------------------------------------------------------


def test_a_screening_error_is_shown_at_the_field_and_span(node_site: Site) -> None:
    node_site.login("ana")
    summary = "Rifles were re-exported through Mombasa by a broker."
    r = _post(node_site, "/cases/new", {**VALID, "summary": summary, "action": "submit"})
    assert r.status_code == 422
    html = r.text
    start = summary.index("Mombasa")
    assert 'id="field-summary"' in html
    assert 'aria-invalid="true"' in html
    assert f"{start + 1}\u2013{start + len('Mombasa')}" in html  # an en dash
    assert "<mark" in html
    # the text is only in the author's own text box and its marked copy, never in a message
    summary_box = html[
        html.index('class="error-summary"') : html.index(
            "</div>", html.index('class="error-summary"')
        )
    ]
    assert "Mombasa" not in summary_box
    errors = re.findall(r'<div class="field-error".*?</div>', html, flags=re.DOTALL)
    assert errors
    assert all("Mombasa" not in e for e in errors)
    assert node_site.gateway.posted == []


def test_a_validation_error_is_shown_at_its_field(node_site: Site) -> None:
    node_site.login("ana")
    data = {k: v for k, v in VALID.items() if k != "confidence"}
    data["items-0-quantity"] = "lots"
    r = _post(node_site, "/cases/new", {**data, "action": "submit"})
    assert r.status_code == 422
    assert re.search(r'id="field-confidence"[^>]*>\s*<legend>', r.text)
    conf = r.text[r.text.index('id="field-confidence"') :]
    assert "field-error" in conf[: conf.index("</fieldset>")]
    qty = r.text[r.text.index('id="field-items-0-quantity"') :]
    qty = qty[:1500]
    assert "field-error" in qty
    assert "expected a whole number" in qty
    assert 'aria-invalid="true"' in qty


def test_a_member_downloads_their_regions_digest_and_the_download_is_audited(
    region_site: Site,
) -> None:
    region_site.login("afr-member")
    docx = region_site.client.get("/region/AFR/2026-05/digest.docx")
    assert docx.status_code == 200
    assert docx.content[:2] == b"PK"  # a DOCX is a zip
    assert "attachment" in docx.headers["content-disposition"]
    as_json = region_site.client.get("/region/AFR/2026-05/digest.json")
    assert as_json.json()["region"] == "AFR"
    assert region_site.client.get("/region/EEG/2026-05/digest.docx").status_code == 403
    entries = region_site.call(region_site.portal.accounts.audit_log)
    assert {e.target for e in entries if e.action == "download"} == {
        "digest AFR 2026-05 docx",
        "digest AFR 2026-05 json",
    }


def test_the_secretariat_reads_a_cycles_summary_and_downloads_its_documents(
    secretariat_site: Site,
) -> None:
    site = secretariat_site
    site.login("editor")
    home = site.client.get("/secretariat")
    assert "CSP13" in home.text
    page = site.client.get("/secretariat/CSP13")
    assert "Four cases were reported." in page.text
    docx = site.client.get("/secretariat/CSP13/summary.docx")
    assert docx.content[:2] == b"PK"
    assert site.client.get("/secretariat/CSP13/summary.json").json()["cycle"] == "CSP13"
    # a cycle without a published summary has no documents
    assert site.client.get("/secretariat/CSP12/summary.json").status_code == 404
    entries = site.call(site.portal.accounts.audit_log)
    assert {"summary CSP13 docx", "summary CSP13 json"} <= {e.target for e in entries}


def test_a_file_import_reports_each_line_and_makes_drafts_awaiting_approval(
    node_site: Site,
) -> None:

    node_site.login("ana")
    case = {
        "confidence": "confirmed", "region": "EEG", "detected": "2026-02",
        "items": [{"category": "ammunition", "quantity": "101-1000"}],
        "transfer_stage": "at_import", "detection_source": "licensing_review",
    }  # fmt: skip
    lines = [
        json.dumps(case),
        json.dumps({**case, "summary": "Seized in Mombasa port."}),
        json.dumps({**case, "region": "ATLANTIS"}),
    ]
    token = csrf_of(node_site.client.get("/import").text)
    r = node_site.client.post(
        "/import",
        data={"csrf_token": token},
        files={"file": ("cases.jsonl", "\n".join(lines).encode(), "application/x-ndjson")},
    )
    assert r.status_code == 200
    report = r.text[r.text.index('id="import-report"') :]
    rows = re.findall(r"<tr><th scope=\"row\">(\d+)</th>\s*<td>(.*?)</td>", report, flags=re.DOTALL)
    assert [n for n, _ in rows] == ["1", "2", "3"]
    assert "Awaiting approval" in rows[0][1]
    assert "screening" in rows[1][1]
    assert "Mombasa" not in report
    assert "region" in rows[2][1]
    drafts = node_site.call(node_site.portal.drafts.all)
    assert sorted(d.state.value for d in drafts) == ["draft", "submitted"]
    # without the token, nothing is imported
    again = node_site.client.post(
        "/import", files={"file": ("cases.jsonl", lines[0].encode(), "application/x-ndjson")}
    )
    assert again.status_code == 403
