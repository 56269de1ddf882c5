"""The public pages: home, search, component, organization, user, guides, language choice.

Handlers are thin: read through the domain services, render a template, answer through
`context.respond` (ETag, language headers). An anonymous visitor's page is rendered once per
change and kept in the page memo (cache.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, get_args
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect

from pysetl_hub_schemas import Kind
from pysetl_hub_server.bounds import MAX_PAGE
from pysetl_hub_server.errors import BadRequest, NotFound
from pysetl_hub_server.governance import lookup
from pysetl_hub_server.governance.orgs import show as show_org
from pysetl_hub_server.hub import Hub
from pysetl_hub_server.i18n.catalogs import LANGUAGES
from pysetl_hub_server.i18n.messages import Message, _
from pysetl_hub_server.i18n.negotiate import COOKIE as LANGUAGE_COOKIE
from pysetl_hub_server.quality.services import Scorer
from pysetl_hub_server.search import services as search_services
from pysetl_hub_server.search.engine import SearchQuery
from pysetl_hub_server.web import catalog, component, guides
from pysetl_hub_server.web.cache import COMPONENT, PageMemo, Rendered
from pysetl_hub_server.web.context import (
    Visitor,
    local_path,
    memo_key,
    memo_of,
    page_html,
    respond,
)

ONE_YEAR = 365 * 24 * 3600


def base_url(hub: Hub, request: Request[Any, Any, Any]) -> str:
    return (hub.settings.base_url or str(request.base_url)).rstrip("/")


async def _memoized(
    state: State, visitor: Visitor, key_parts: tuple[str, ...], make: Callable[[], Awaitable[str]]
) -> Response[bytes]:
    """The page from the memo, or rendered now (and kept when nothing changed meanwhile)."""
    memo = memo_of(state)
    key = memo_key(visitor, *key_parts)
    if key is not None and (found := memo.get(key)) is not None:
        return respond(visitor, found)
    generation = memo.generation
    page = Rendered.of(await make())
    if key is not None:
        memo.put(key, page, generation)
    return respond(visitor, page)


@get("/", include_in_schema=False, name="web.home")
async def home(
    hub: NamedDependency[Hub], visitor: NamedDependency[Visitor], state: State
) -> Response[bytes]:
    async def make() -> str:
        async with hub.sessions() as session:
            data = await catalog.home(session)
        return page_html(visitor, "home.html", home=data)

    return await _memoized(state, visitor, ("home",), make)


SORTS = ("relevance", "newest", "name")
KINDS: tuple[str, ...] = get_args(Kind)


def query_string(query: SearchQuery, **changes: object) -> str:
    """The query string of a search, with `changes` (the pager's links); also its memo key."""
    fields: dict[str, object] = {
        "q": query.q, "kind": query.kind, "pysetl": query.pysetl, "python": query.python,
        "spark": query.spark, "license": query.license,
        "verified": None if query.verified is None else str(query.verified).lower(),
        "sort": None if query.sort == "relevance" else query.sort, "page": query.page,
    }  # fmt: skip
    fields.update(changes)
    return urlencode({k: v for k, v in fields.items() if v not in (None, "")})


@get("/search", include_in_schema=False, name="web.search")
async def search(
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
    state: State,
    q: FromQuery[str] = "",
    kind: FromQuery[str | None] = None,
    pysetl: FromQuery[str | None] = None,
    python: FromQuery[str | None] = None,
    spark: FromQuery[str | None] = None,
    license: FromQuery[str | None] = None,
    verified: FromQuery[bool | None] = None,
    sort: FromQuery[Literal["relevance", "newest", "name"]] = "relevance",
    page: Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)] = 1,
) -> Response[bytes]:
    """The URL carries the whole query, so a result page can be shared and works without
    JavaScript; htmx asks for the results fragment alone as the visitor types."""
    # A form sends every field, empty ones as "": an empty facet is no facet.
    problem: Message | str | None = None
    if kind and kind not in KINDS:
        problem = _("kind must be one of {kinds}", kinds=", ".join(KINDS))
    query = SearchQuery(
        q=q.strip(),
        kind=kind if kind in KINDS else None,
        pysetl=pysetl or None,
        python=python or None,
        spark=spark or None,
        license=license or None,
        verified=verified,
        sort=sort,
        page=page,
        per_page=20,
    )
    key = memo_key(visitor, "search", query_string(query)) if problem is None else None
    memo: PageMemo = state.search_memo
    if key is not None and (found := memo.get(key)) is not None:
        return respond(visitor, found)
    generation = memo.generation
    results = None
    if problem is None:
        try:
            results = await search_services.search(hub, query)
        except BadRequest as exc:
            problem = exc.message
    html = page_html(
        visitor,
        "search_results.html" if visitor.partial else "search.html",
        query=query,
        results=results,
        problem=problem.translate(visitor.language) if isinstance(problem, Message) else problem,
        sorts=SORTS,
        request_query=lambda **changes: query_string(query, **changes),
        versions=hub.settings.platforms.by_axis(),
    )
    if problem is not None:
        return respond(visitor, html, status=400)
    rendered = Rendered.of(html)
    if key is not None:
        memo.put(key, rendered, generation)
    return respond(visitor, rendered)


@get("/components/{name:str}", include_in_schema=False, name="web.component")
async def component_page(
    name: FromPath[str],
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
    state: State,
    request: Request[Any, Any, Any],
) -> Response[bytes]:
    base = base_url(hub, request)

    async def make() -> str:
        async with hub.sessions() as session:
            view = await component.view(session, name, visitor.identity, Scorer.of(hub))
        return page_html(visitor, "component.html", view=view, base=base)

    return await _memoized(state, visitor, (COMPONENT, name.lower(), base), make)


@get("/orgs/{name:str}", include_in_schema=False, name="web.org")
async def org_page(
    name: FromPath[str],
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
    state: State,
) -> Response[bytes]:
    async def make() -> str:
        async with hub.sessions() as session:
            org = await show_org(session, name)
            row = await lookup.org(session, name)
            cards = await catalog.org_components(session, row)
        return page_html(visitor, "org.html", org=org, cards=cards)

    return await _memoized(state, visitor, ("org", name.lower()), make)


@get("/users/{name:str}", include_in_schema=False, name="web.user")
async def user_page(
    name: FromPath[str],
    hub: NamedDependency[Hub],
    visitor: NamedDependency[Visitor],
    state: State,
) -> Response[bytes]:
    async def make() -> str:
        async with hub.sessions() as session:
            user = await lookup.user(session, name)
            if not user.is_active:
                raise NotFound("user.missing", _("no user named {name!r} on this hub", name=name))
            cards = await catalog.user_components(session, user)
        return page_html(visitor, "user.html", profile=user.username, cards=cards)

    return await _memoized(state, visitor, ("user", name.lower()), make)


@get("/guides", include_in_schema=False, name="web.guides")
async def guide_index(visitor: NamedDependency[Visitor]) -> Response[bytes]:
    return respond(
        visitor, page_html(visitor, "guides.html", guides=guides.index(visitor.language))
    )


@get("/guides/{slug:str}", include_in_schema=False, name="web.guide")
async def guide_page(slug: FromPath[str], visitor: NamedDependency[Visitor]) -> Response[bytes]:
    guide = guides.load(slug, visitor.language)
    return respond(visitor, page_html(visitor, "guide.html", guide=guide))


@get("/language/{code:str}", include_in_schema=False, name="web.language")
async def choose_language(code: FromPath[str], next: FromQuery[str | None] = None) -> Redirect:
    """Remember the reader's choice for a year and go back where they were (on this hub)."""
    if code not in LANGUAGES:
        raise NotFound(
            "language.missing",
            _(
                "no language {code!r} here: pick one of {languages}",
                code=code,
                languages=", ".join(LANGUAGES),
            ),
        )
    response = Redirect(local_path(next), status_code=303)
    response.set_cookie(
        LANGUAGE_COOKIE, code, max_age=ONE_YEAR, path="/", httponly=True, samesite="lax"
    )
    return response


ROUTES = [
    home,
    search,
    component_page,
    org_page,
    user_page,
    guide_index,
    guide_page,
    choose_language,
]
