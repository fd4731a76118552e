from tests.portal.conftest import Site


def test_login_and_pages(node_site: Site) -> None:
    r = node_site.login("ana")
    assert r.status_code == 303, r.text
    for url in ("/cases", "/cases/new", "/catalogue", "/import", "/account"):
        page = node_site.client.get(url)
        assert page.status_code == 200, (url, page.text[:2000])
