"""problem+json over real HTTP: `title` and `detail` follow Accept-Language (and the picker's
cookie), `code` and `status` never do, and a header the hub cannot use gives English."""

from __future__ import annotations

import httpx
import pytest

from pysetl_hub_server.i18n.negotiate import COOKIE
from tests.support.live import LiveServer
from tests.support.upload import problem

MISSING = "/api/v1/components/no-such-thing"
ENGLISH = ("Not Found", "no component named 'no-such-thing' on this hub")


def _missing(http: httpx.Client, **headers: str) -> tuple[httpx.Response, dict[str, object]]:
    response = http.get(MISSING, headers=headers)
    assert response.status_code == 404
    return response, problem(response)


def test_english_by_default(http: httpx.Client) -> None:
    response, body = _missing(http)
    assert (body["title"], body["detail"]) == ENGLISH
    assert body["code"] == "component.missing"
    assert response.headers["content-language"] == "en"
    assert "Accept-Language" in response.headers["vary"]


def test_spanish_keeps_code_status_and_the_name_verbatim(http: httpx.Client) -> None:
    response, body = _missing(http, **{"Accept-Language": "es"})
    assert body["title"] == "No encontrado"
    assert body["detail"] == "no existe ningún componente llamado 'no-such-thing' en este hub"
    assert (body["code"], body["status"]) == ("component.missing", 404)
    assert body["instance"] == MISSING
    assert response.headers["content-language"] == "es"


def test_arabic(http: httpx.Client) -> None:
    response, body = _missing(http, **{"Accept-Language": "ar-EG"})
    assert body["title"] == "غير موجود"
    assert body["detail"] == "لا يوجد مكوّن باسم 'no-such-thing' على هذا المركز"
    assert (body["code"], body["status"]) == ("component.missing", 404)
    assert response.headers["content-language"] == "ar"


@pytest.mark.parametrize(
    ("header", "language"),
    [
        ("fr", "en"),
        ("fr-CA, de;q=0.8", "en"),
        ("fr, es;q=0.5", "es"),
        ("es;q=0.3, ar;q=0.7", "ar"),
        ("es-MX", "es"),
        ("es;q=0, en;q=0.1", "en"),  # q=0 is "never", even when it is the only language of ours
        ("*", "en"),
    ],
)
def test_q_values_and_regions(http: httpx.Client, header: str, language: str) -> None:
    response, body = _missing(http, **{"Accept-Language": header})
    assert response.headers["content-language"] == language
    assert body["code"] == "component.missing"
    assert "'no-such-thing'" in str(body["detail"])


@pytest.mark.parametrize(
    "header",
    [
        "x" * 20_000,
        "es;q=" + "9" * 5000,
        ";;;,,,=;q=;q=nan;q=inf,-,",
        "ar;q=-1, es;q=2",
        "\u00e9s, \u0639\u0631\u0628\u064a",
        "1234, --, =es, q=1",
    ],
)
def test_hostile_accept_language_gives_english_never_a_500(http: httpx.Client, header: str) -> None:
    response = http.get(MISSING, headers={"Accept-Language": header.encode("utf-8")})  # type: ignore[dict-item]
    assert response.status_code == 404
    body = problem(response)
    assert (body["title"], body["detail"]) == ENGLISH
    assert response.headers["content-language"] == "en"


def test_a_long_header_still_counts_its_first_languages(http: httpx.Client) -> None:
    response, _body = _missing(http, **{"Accept-Language": "es, " + "x" * 20_000})
    assert response.headers["content-language"] == "es"


def test_the_picker_cookie_wins_over_the_header(http: httpx.Client) -> None:
    http.cookies.set(COOKIE, "ar")
    try:
        response, body = _missing(http, **{"Accept-Language": "es"})
    finally:
        http.cookies.clear()
    assert response.headers["content-language"] == "ar"
    assert body["title"] == "غير موجود"


def test_auth_problem_in_spanish(live: LiveServer, http: httpx.Client) -> None:
    response = http.get(
        "/api/v1/tokens",
        headers={"Authorization": "Bearer not-a-hub-token", "Accept-Language": "es-ES,es;q=0.9"},
    )
    assert response.status_code == 401
    body = problem(response)
    assert body["title"] == "No autorizado"
    assert body["code"] == "auth.token_format"
    assert body["detail"] == "el token de API no es un token de PySetl Hub (pshub_...)"
    assert response.headers["www-authenticate"].startswith("Basic")


def test_a_translated_phrase_inside_a_sentence(
    live: LiveServer, http: httpx.Client, published_catalog: str
) -> None:
    """`auth.role` builds its sentence from a verb phrase (`yank releases of`) and the roles:
    both follow the language, the names quoted from the request stay as they are."""
    mallory = live.user_with_token("mallory")
    url = "/api/v1/components/csv-dedupe/1.0.0/yank"
    english = problem(
        http.post(url, json={"reason": "x"}, headers={"Authorization": f"Bearer {mallory}"})
    )
    spanish = problem(
        http.post(
            url,
            json={"reason": "x"},
            headers={"Authorization": f"Bearer {mallory}", "Accept-Language": "es"},
        )
    )
    assert english["code"] == spanish["code"] == "auth.role"
    assert english["status"] == spanish["status"] == 403
    assert english["extra"] == spanish["extra"]
    assert str(english["detail"]).startswith(
        "user 'mallory' may not yank releases of 'csv-dedupe': that needs the maintainer or "
        "owner role and 'mallory' has no role"
    )
    assert str(spanish["detail"]).startswith(
        "el usuario 'mallory' no puede retirar versiones de 'csv-dedupe': hace falta el rol "
        "maintainer u owner y 'mallory' no tiene ningún rol"
    )
    assert spanish["title"] == "Prohibido"


def test_litestar_validation_is_translated_around_its_errors(http: httpx.Client) -> None:
    english = problem(http.get("/api/v1/search", params={"page": "many"}))
    spanish = problem(
        http.get("/api/v1/search", params={"page": "many"}, headers={"Accept-Language": "es"})
    )
    assert english["status"] == spanish["status"] == 400
    assert english["code"] == spanish["code"] == "http.400"
    assert english["detail"] == "Validation failed for GET /api/v1/search?page=many"
    assert spanish["detail"] == "La validación falló para GET /api/v1/search?page=many"
    assert spanish["title"] == "Solicitud incorrecta"
    assert spanish["extra"] == english["extra"]
